{#
  The combination of `combination_of_columns` is unique (dbt_utils' test of the same name; the project
  has no packages, so it lives here). NULLs count as values.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as n_records
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
