{{
    config(
        materialized='incremental',
        unique_key='erp_document_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{#
  Posted sales invoices and credit memos of the ERP as one document stream, the ERP side of the
  invoice reconciliation: billing_document_id (from the external document number) joins
  int_billing_documents.billing_document_id, document_kind matches (invoice / credit_note).
  Credit memos are negative in the signed columns. Both kinds are put in one shape first (headers),
  then their lines are added up once. Incremental on the dlt load id (a document and its lines are
  written by the same load).
#}

{#- What both kinds carry under the same name; each branch below adds what is its own. -#}
{%- set shared_columns = [
    'external_document_number', 'erp_customer_id', 'erp_customer_number', 'customer_name', 'currency_code',
    'status', 'posting_date', 'due_date', 'discount_amount', 'amount_excluding_tax', 'tax_amount',
    'amount_including_tax', 'odata_etag', 'last_modified_at', '_dlt_load_id',
] %}

with headers as (

    select
        erp_invoice_id as erp_document_id,
        'invoice' as document_kind,
        'sales_invoice' as erp_document_type,
        erp_invoice_number as erp_document_number,
        billing_invoice_id as billing_document_id,
        cast(null as {{ dbt.type_string() }}) as related_erp_invoice_id,
        invoice_date as document_date,
        amount_including_tax as signed_amount_including_tax,
        remaining_amount,
        {{ shared_columns | join(', ') }}
    from {{ ref('stg_erp__sales_invoices') }}
    where {{ syncline.new_dlt_loads_only() }}

    union all

    select
        erp_credit_memo_id as erp_document_id,
        'credit_note' as document_kind,
        'sales_credit_memo' as erp_document_type,
        erp_credit_memo_number as erp_document_number,
        billing_credit_note_id as billing_document_id,
        erp_invoice_id as related_erp_invoice_id,
        credit_memo_date as document_date,
        -amount_including_tax as signed_amount_including_tax,
        cast(null as {{ syncline.money_type() }}) as remaining_amount,
        {{ shared_columns | join(', ') }}
    from {{ ref('stg_erp__sales_credit_memos') }}
    where {{ syncline.new_dlt_loads_only() }}

),

lines as (

    select 'invoice' as document_kind, erp_invoice_id as erp_document_id, quantity
    from {{ ref('stg_erp__sales_invoice_lines') }}

    union all

    select 'credit_note' as document_kind, erp_credit_memo_id as erp_document_id, quantity
    from {{ ref('stg_erp__sales_credit_memo_lines') }}

),

line_totals as (

    select
        lines.document_kind,
        lines.erp_document_id,
        cast(sum(lines.quantity) as decimal(18, 4)) as quantity,
        count(*) as line_count
    from lines
    inner join headers
        on headers.document_kind = lines.document_kind
        and headers.erp_document_id = lines.erp_document_id
    group by lines.document_kind, lines.erp_document_id

)

select
    headers.erp_document_id,
    headers.document_kind,
    headers.erp_document_type,
    headers.erp_document_number,
    headers.external_document_number,
    headers.billing_document_id,
    headers.related_erp_invoice_id,
    headers.erp_customer_id,
    headers.erp_customer_number,
    headers.customer_name,
    headers.currency_code,
    headers.status,
    headers.document_date,
    headers.posting_date,
    headers.due_date,
    headers.discount_amount,
    headers.amount_excluding_tax,
    headers.tax_amount,
    headers.amount_including_tax,
    headers.signed_amount_including_tax,
    headers.remaining_amount,
    line_totals.quantity,
    coalesce(line_totals.line_count, 0) as line_count,
    headers.odata_etag,
    headers.last_modified_at,
    headers._dlt_load_id,
    headers.status not in ('draft', 'in_review') as is_posted
from headers
left join line_totals
    on line_totals.document_kind = headers.document_kind
    and line_totals.erp_document_id = headers.erp_document_id
