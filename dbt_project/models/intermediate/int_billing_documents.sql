{{
    config(
        materialized='incremental',
        unique_key='billing_document_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{#
  Billing invoices and credit notes as one document stream, the billing side of the invoice
  reconciliation (each postable document should exist in the ERP with external document number =
  billing_document_id). Amounts in major units; credit notes are negative in the signed columns.
  Incremental on the dlt load id: only documents (re)loaded since the last run are rebuilt.
#}

with invoices as (

    select * from {{ ref('stg_billing__invoices') }}
    where {{ syncline.new_dlt_loads_only() }}

),

credit_notes as (

    select * from {{ ref('stg_billing__credit_notes') }}
    where {{ syncline.new_dlt_loads_only() }}

),

invoice_quantities as (

    select
        lines.invoice_id,
        cast(sum(case when lines.line_type = 'subscription' then lines.quantity else 0 end) as bigint) as quantity,
        count(*) as line_count
    from {{ ref('stg_billing__invoice_lines') }} as lines
    inner join invoices
        on invoices.invoice_id = lines.invoice_id
    group by lines.invoice_id

),

documents as (

    select
        invoices.invoice_id as billing_document_id,
        'invoice' as document_kind,
        invoices.invoice_number as document_number,
        invoices.billing_customer_id,
        invoices.subscription_id,
        invoices.invoice_id,
        invoices.status,
        (invoices.status in ('open', 'paid', 'uncollectible') and not invoices.is_deleted) as is_postable,
        invoices.currency_code,
        invoices.subtotal,
        invoices.discount_amount,
        invoices.total_excluding_tax as amount_excluding_tax,
        invoices.tax_amount,
        invoices.total_amount as amount_including_tax,
        invoices.total_amount as signed_amount_including_tax,
        invoices.amount_remaining,
        invoice_quantities.quantity,
        coalesce(invoice_quantities.line_count, 0) as line_count,
        coalesce(invoices.finalized_at, invoices.created_at) as document_at,
        invoices.created_at,
        invoices.period_start_at,
        invoices.period_end_at,
        invoices.paid_at,
        invoices._dlt_load_id
    from invoices
    left join invoice_quantities
        on invoice_quantities.invoice_id = invoices.invoice_id

    union all

    select
        credit_note_id as billing_document_id,
        'credit_note' as document_kind,
        credit_note_number as document_number,
        billing_customer_id,
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        invoice_id,
        status,
        status = 'issued' as is_postable,
        currency_code,
        subtotal,
        discount_amount,
        total_excluding_tax as amount_excluding_tax,
        tax_amount,
        total_amount as amount_including_tax,
        -total_amount as signed_amount_including_tax,
        cast(null as {{ syncline.money_type() }}) as amount_remaining,
        cast(null as bigint) as quantity,
        1 as line_count,
        coalesce(effective_at, created_at) as document_at,
        created_at,
        cast(null as timestamp) as period_start_at,
        cast(null as timestamp) as period_end_at,
        cast(null as timestamp) as paid_at,
        _dlt_load_id
    from credit_notes

)

select
    billing_document_id,
    document_kind,
    document_number,
    billing_customer_id,
    subscription_id,
    invoice_id,
    status,
    is_postable,
    currency_code,
    subtotal,
    discount_amount,
    amount_excluding_tax,
    tax_amount,
    amount_including_tax,
    signed_amount_including_tax,
    amount_remaining,
    quantity,
    line_count,
    document_at,
    cast(document_at as date) as document_date,
    created_at,
    period_start_at,
    period_end_at,
    paid_at,
    _dlt_load_id
from documents
