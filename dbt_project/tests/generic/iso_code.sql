{# Values are upper-case ISO codes of `length` letters (country: 2, currency: 3); NULLs pass. #}
{% test iso_code(model, column_name, length=2) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and not ({{ column_name }} ~ '^[A-Z]{ {{- length -}} }$')
{% endtest %}
