{{
    config(
        materialized='incremental',
        unique_key='billing_document_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{#
  One row per billing invoice / credit note against the document the ERP posted from it (joined on
  billing_document_id + document_kind), with the first finding that applies (precedence):

    not_postable      billing draft / void / deleted: nothing to post (an exception only if the ERP has it)
    missing_in_erp    no ERP document carries the billing id
    wrong_customer    the ERP customer belongs to another golden customer (a duplicate ERP record of the
                      same golden customer is not a wrong customer)
    currency_mismatch
    amount_mismatch   net amount (excluding tax) differs by more than var reconciliation_amount_tolerance
    tax_mismatch      net agrees, tax differs
    late              amounts agree, posted more than var late_posting_days days after the billing date
    matched

  Incremental: a document is recomputed when its billing row or an ERP row for it was (re)loaded since
  the last run, or when identity resolution moved its billing or ERP customer to another golden id.
  Changing a var needs a --full-refresh.
#}

{%- set late_posting_days = var('late_posting_days', 5) -%}
{%- set tolerance = var('reconciliation_amount_tolerance', 0.01) -%}
{%- set text = dbt.type_string() -%}
{%- set money = syncline.money_type() -%}

with billing_documents as (

    select * from {{ ref('int_billing_documents') }}

),

erp_documents as (

    select * from {{ ref('int_erp_documents') }}

),

party_matches as (

    select * from {{ source('identity', 'party_matches') }}

),

billing_golden as (

    select source_id as billing_customer_id, golden_id
    from party_matches
    where source_system = 'billing'

),

erp_golden as (

    select source_id as erp_customer_id, golden_id
    from party_matches
    where source_system = 'erp'

),

{% if is_incremental() %}
-- Which documents to recompute; everything below reads the full upstream rows of only these.
changed_documents as (

    select billing_document_id
    from billing_documents
    where {{ syncline.new_dlt_loads_only('_dlt_load_id', 'billing_dlt_load_id') }}

    union

    select billing_document_id
    from erp_documents
    where billing_document_id is not null
        and {{ syncline.new_dlt_loads_only('_dlt_load_id', 'erp_dlt_load_id') }}

    union

    -- identity moved a customer to another golden id: the wrong_customer verdict may change
    select previous.billing_document_id
    from {{ this }} as previous
    left join billing_golden
        on billing_golden.billing_customer_id = previous.billing_customer_id
    left join erp_golden
        on erp_golden.erp_customer_id = previous.erp_customer_id
    where coalesce(billing_golden.golden_id, '') <> coalesce(previous.golden_customer_id, '')
        or coalesce(erp_golden.golden_id, '') <> coalesce(previous.erp_golden_customer_id, '')

),

{% endif %}
scoped_billing as (

    select billing_documents.*
    from billing_documents
    {% if is_incremental() -%}
    inner join changed_documents
        on changed_documents.billing_document_id = billing_documents.billing_document_id
    {%- endif %}

),

-- One ERP document per billing document: posted before draft, earliest posting, then the id
-- (a billing document posted twice shows erp_document_count = 2 and is sent to review).
ranked_erp as (

    select
        erp_documents.*,
        row_number() over (
            partition by erp_documents.billing_document_id, erp_documents.document_kind
            order by
                case when erp_documents.is_posted then 0 else 1 end,
                erp_documents.posting_date,
                erp_documents.erp_document_id
        ) as erp_rank,
        count(*) over (
            partition by erp_documents.billing_document_id, erp_documents.document_kind
        ) as erp_document_count
    from erp_documents
    inner join scoped_billing
        on scoped_billing.billing_document_id = erp_documents.billing_document_id
        and scoped_billing.document_kind = erp_documents.document_kind

),

joined as (

    select
        billing.billing_document_id,
        billing.document_kind,
        billing.document_number as billing_document_number,
        billing.status as billing_status,
        billing.is_postable,
        billing.billing_customer_id,
        billing_golden.golden_id as golden_customer_id,
        billing.currency_code as billing_currency_code,
        billing.amount_excluding_tax as billing_amount_excluding_tax,
        billing.tax_amount as billing_tax_amount,
        billing.amount_including_tax as billing_amount_including_tax,
        billing.document_date as billing_document_date,
        erp.erp_document_id,
        erp.erp_document_number,
        cast(coalesce(erp.erp_document_count, 0) as bigint) as erp_document_count,
        erp.erp_customer_id,
        erp.erp_customer_number,
        erp_golden.golden_id as erp_golden_customer_id,
        erp.status as erp_status,
        erp.currency_code as erp_currency_code,
        erp.amount_excluding_tax as erp_amount_excluding_tax,
        erp.tax_amount as erp_tax_amount,
        erp.amount_including_tax as erp_amount_including_tax,
        erp.posting_date as erp_posting_date,
        billing._dlt_load_id as billing_dlt_load_id,
        erp._dlt_load_id as erp_dlt_load_id
    from scoped_billing as billing
    left join ranked_erp as erp
        on erp.billing_document_id = billing.billing_document_id
        and erp.document_kind = billing.document_kind
        and erp.erp_rank = 1
    left join billing_golden
        on billing_golden.billing_customer_id = billing.billing_customer_id
    left join erp_golden
        on erp_golden.erp_customer_id = erp.erp_customer_id

),

compared as (

    select
        joined.*,
        -- differences are only meaningful in one currency; positive = the ERP shows more
        case when erp_currency_code = billing_currency_code
            then erp_amount_including_tax - billing_amount_including_tax end as amount_difference,
        case when erp_currency_code = billing_currency_code
            then erp_amount_excluding_tax - billing_amount_excluding_tax end as net_difference,
        case when erp_currency_code = billing_currency_code
            then erp_tax_amount - billing_tax_amount end as tax_difference,
        case when erp_posting_date is not null
            then {{ dbt.datediff('billing_document_date', 'erp_posting_date', 'day') }} end as days_to_post
    from joined

),

classified as (

    select
        compared.*,
        case
            when not is_postable then 'not_postable'
            when erp_document_id is null then 'missing_in_erp'
            when golden_customer_id is not null
                and erp_golden_customer_id is not null
                and erp_golden_customer_id <> golden_customer_id then 'wrong_customer'
            when coalesce(erp_currency_code, '') <> coalesce(billing_currency_code, '') then 'currency_mismatch'
            when abs(net_difference) > {{ tolerance }} then 'amount_mismatch'
            when abs(tax_difference) > {{ tolerance }} then 'tax_mismatch'
            when days_to_post > {{ late_posting_days }} then 'late'
            else 'matched'
        end as reconciliation_status
    from compared

)

select
    cast(billing_document_id as {{ text }}) as billing_document_id,
    cast(document_kind as {{ text }}) as document_kind,
    cast(billing_document_number as {{ text }}) as billing_document_number,
    cast(billing_status as {{ text }}) as billing_status,
    cast(is_postable as boolean) as is_postable,
    cast(billing_customer_id as {{ text }}) as billing_customer_id,
    cast(golden_customer_id as {{ text }}) as golden_customer_id,
    cast(billing_currency_code as {{ text }}) as billing_currency_code,
    cast(billing_amount_excluding_tax as {{ money }}) as billing_amount_excluding_tax,
    cast(billing_tax_amount as {{ money }}) as billing_tax_amount,
    cast(billing_amount_including_tax as {{ money }}) as billing_amount_including_tax,
    cast(billing_document_date as date) as billing_document_date,
    cast(erp_document_id as {{ text }}) as erp_document_id,
    cast(erp_document_number as {{ text }}) as erp_document_number,
    cast(erp_document_count as bigint) as erp_document_count,
    cast(erp_customer_id as {{ text }}) as erp_customer_id,
    cast(erp_customer_number as {{ text }}) as erp_customer_number,
    cast(erp_golden_customer_id as {{ text }}) as erp_golden_customer_id,
    cast(erp_status as {{ text }}) as erp_status,
    cast(erp_currency_code as {{ text }}) as erp_currency_code,
    cast(erp_amount_excluding_tax as {{ money }}) as erp_amount_excluding_tax,
    cast(erp_tax_amount as {{ money }}) as erp_tax_amount,
    cast(erp_amount_including_tax as {{ money }}) as erp_amount_including_tax,
    cast(erp_posting_date as date) as erp_posting_date,
    cast(reconciliation_status as {{ text }}) as reconciliation_status,
    cast(amount_difference as {{ money }}) as amount_difference,
    cast(tax_difference as {{ money }}) as tax_difference,
    cast(days_to_post as integer) as days_to_post,
    cast(
        case
            when reconciliation_status = 'missing_in_erp' then 'post_to_erp'
            when reconciliation_status = 'wrong_customer' then 'move_to_customer'
            when reconciliation_status = 'currency_mismatch' then 'correct_currency'
            when reconciliation_status = 'amount_mismatch' then 'correct_amount'
            -- tax is the ERP's own calculation (customer tax setup): a person decides
            when reconciliation_status = 'tax_mismatch' then 'review'
            -- posted although billing voided it, or posted twice
            when reconciliation_status = 'not_postable' and erp_document_id is not null then 'review'
            when erp_document_count > 1 then 'review'
            else 'none'
        end as {{ text }}
    ) as action_needed,
    cast(
        reconciliation_status not in ('matched', 'not_postable')
        or (reconciliation_status = 'not_postable' and erp_document_id is not null)
        or erp_document_count > 1
        as boolean
    ) as is_exception,
    cast(billing_dlt_load_id as {{ text }}) as billing_dlt_load_id,
    cast(erp_dlt_load_id as {{ text }}) as erp_dlt_load_id
from classified
