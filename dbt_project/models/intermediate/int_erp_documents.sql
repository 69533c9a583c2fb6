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
  Credit memos are negative in the signed columns. Incremental on the dlt load id (a document and
  its lines are written by the same load).
#}

with invoices as (

    select * from {{ ref('stg_erp__sales_invoices') }}
    where {{ syncline.new_dlt_loads_only() }}

),

credit_memos as (

    select * from {{ ref('stg_erp__sales_credit_memos') }}
    where {{ syncline.new_dlt_loads_only() }}

),

invoice_lines as (

    select
        lines.erp_invoice_id as erp_document_id,
        cast(sum(lines.quantity) as decimal(18, 4)) as quantity,
        count(*) as line_count
    from {{ ref('stg_erp__sales_invoice_lines') }} as lines
    inner join invoices
        on invoices.erp_invoice_id = lines.erp_invoice_id
    group by lines.erp_invoice_id

),

credit_memo_lines as (

    select
        lines.erp_credit_memo_id as erp_document_id,
        cast(sum(lines.quantity) as decimal(18, 4)) as quantity,
        count(*) as line_count
    from {{ ref('stg_erp__sales_credit_memo_lines') }} as lines
    inner join credit_memos
        on credit_memos.erp_credit_memo_id = lines.erp_credit_memo_id
    group by lines.erp_credit_memo_id

),

documents as (

    select
        invoices.erp_invoice_id as erp_document_id,
        'invoice' as document_kind,
        'sales_invoice' as erp_document_type,
        invoices.erp_invoice_number as erp_document_number,
        invoices.external_document_number,
        invoices.billing_invoice_id as billing_document_id,
        cast(null as {{ dbt.type_string() }}) as related_erp_invoice_id,
        invoices.erp_customer_id,
        invoices.erp_customer_number,
        invoices.customer_name,
        invoices.currency_code,
        invoices.status,
        invoices.invoice_date as document_date,
        invoices.posting_date,
        invoices.due_date,
        invoices.discount_amount,
        invoices.amount_excluding_tax,
        invoices.tax_amount,
        invoices.amount_including_tax,
        invoices.amount_including_tax as signed_amount_including_tax,
        invoices.remaining_amount,
        invoice_lines.quantity,
        coalesce(invoice_lines.line_count, 0) as line_count,
        invoices.odata_etag,
        invoices.last_modified_at,
        invoices._dlt_load_id
    from invoices
    left join invoice_lines
        on invoice_lines.erp_document_id = invoices.erp_invoice_id

    union all

    select
        credit_memos.erp_credit_memo_id as erp_document_id,
        'credit_note' as document_kind,
        'sales_credit_memo' as erp_document_type,
        credit_memos.erp_credit_memo_number as erp_document_number,
        credit_memos.external_document_number,
        credit_memos.billing_credit_note_id as billing_document_id,
        credit_memos.erp_invoice_id as related_erp_invoice_id,
        credit_memos.erp_customer_id,
        credit_memos.erp_customer_number,
        credit_memos.customer_name,
        credit_memos.currency_code,
        credit_memos.status,
        credit_memos.credit_memo_date as document_date,
        credit_memos.posting_date,
        credit_memos.due_date,
        credit_memos.discount_amount,
        credit_memos.amount_excluding_tax,
        credit_memos.tax_amount,
        credit_memos.amount_including_tax,
        -credit_memos.amount_including_tax as signed_amount_including_tax,
        cast(null as {{ syncline.money_type() }}) as remaining_amount,
        credit_memo_lines.quantity,
        coalesce(credit_memo_lines.line_count, 0) as line_count,
        credit_memos.odata_etag,
        credit_memos.last_modified_at,
        credit_memos._dlt_load_id
    from credit_memos
    left join credit_memo_lines
        on credit_memo_lines.erp_document_id = credit_memos.erp_credit_memo_id

)

select
    *,
    status not in ('draft', 'in_review') as is_posted
from documents
