{#
  Invoice exception rate (DESIGN 8): one row over invoice_reconciliation. A document is checked when it
  had to reach the ERP (postable) or reached it anyway (posted although void / draft); the rate is
  exceptions / documents checked.
#}

{%- set statuses = [
    'matched', 'missing_in_erp', 'late', 'amount_mismatch', 'currency_mismatch',
    'tax_mismatch', 'wrong_customer', 'not_postable',
] -%}

with reconciliation as (

    select * from {{ ref('invoice_reconciliation') }}

),

checked as (

    select *
    from reconciliation
    where is_postable or erp_document_id is not null

),

totals as (

    select
        count(*) as documents_checked,
        sum(case when is_exception then 1 else 0 end) as exceptions,
        {%- for status in statuses %}
        sum(case when reconciliation_status = '{{ status }}' then 1 else 0 end) as {{ status }}_count,
        {%- endfor %}
        sum(case when action_needed <> 'none' then 1 else 0 end) as open_actions,
        max(billing_document_date) as last_billing_document_date
    from checked

)

select
    cast(documents_checked as bigint) as documents_checked,
    cast(coalesce(exceptions, 0) as bigint) as exceptions,
    cast(
        case when documents_checked > 0 then 1.0 * coalesce(exceptions, 0) / documents_checked end
        as numeric(18, 4)
    ) as invoice_exception_rate,
    {%- for status in statuses %}
    cast(coalesce({{ status }}_count, 0) as bigint) as {{ status }}_count,
    {%- endfor %}
    cast(coalesce(open_actions, 0) as bigint) as open_actions,
    cast(last_billing_document_date as date) as last_billing_document_date
from totals
