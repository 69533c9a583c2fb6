{#
  Which fields a destination receives, decided once, from the field_ownership seed: the rows whose
  sync_targets ('|'-separated systems) name the destination and whose owner is another system (a
  sync never writes a field back into the system that owns it). A subquery with the seed's columns
  (entity, field, owner_system, fallback_order, sync_targets, description):

      from {{ syncline.fields_received_by('erp') }} as erp_fields
      where entity = 'customer'
#}

{% macro fields_received_by(destination) -%}
    (
        select *
        from {{ ref('field_ownership') }}
        where owner_system <> '{{ destination }}'
            and {{ dbt.concat(["'|'", "coalesce(sync_targets, '')", "'|'"]) }} like '%|{{ destination }}|%'
    )
{%- endmacro %}
