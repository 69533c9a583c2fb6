{#
  Desired state for billing (Stripe credit notes) from the ERP: one row per credit memo finance posted
  in Business Central against a sales invoice of a billing invoice, that did not come from billing
  (its externalDocumentNumber is not a billing credit note id). The business asks "did this credit memo
  reach billing?": the billing_credit_notes sync creates the credit note on the billing invoice, once,
  with the ERP document number in its metadata.
    insert - billing has no credit note carrying this ERP document number yet
    noop   - it has one (billing_credit_note_id)
    review - the billing invoice is unknown, not finalized, in another currency, or the memo would
             credit more than the invoice has left: a person decides (never written)
  amount_minor is the amount in the currency's smallest unit, as Stripe takes it.
  Written only when the ownership seed lets ERP credit memos sync to billing (invoice.erp_credit_memo).
#}

{%- set text = dbt.type_string() -%}
{%- set local_currency = var('erp_local_currency_code', 'USD') -%}

with memos as (

    select * from {{ ref('stg_erp__sales_credit_memos') }}
    where billing_credit_note_id is null
        and status <> 'draft'
        and erp_invoice_id is not null

),

erp_invoices as (

    select erp_invoice_id, billing_invoice_id from {{ ref('stg_erp__sales_invoices') }}

),

billing_invoices as (

    select invoice_id, currency_code, status, total_amount from {{ ref('stg_billing__invoices') }}

),

billing_credit_notes as (

    select * from {{ ref('stg_billing__credit_notes') }}

),

credited as (

    select invoice_id, sum(total_amount) as credited_amount
    from billing_credit_notes
    where status <> 'void'
    group by invoice_id

),

carried as (

    select erp_document_number, min(credit_note_id) as credit_note_id
    from billing_credit_notes
    where erp_document_number is not null
    group by erp_document_number

),

erp_to_billing as (

    select owner_system
    from {{ syncline.fields_received_by('billing') }} as billing_fields
    where entity = 'invoice'
        and field = 'erp_credit_memo'
        and owner_system = 'erp'

),

documents as (

    select
        memos.erp_credit_memo_id,
        memos.erp_credit_memo_number as erp_document_number,
        memos.erp_invoice_id,
        erp_invoices.billing_invoice_id,
        billing_invoices.status as billing_invoice_status,
        cast(coalesce(nullif(memos.currency_code, ''), '{{ local_currency }}') as {{ text }}) as currency_code,
        memos.amount_including_tax as amount,
        cast(
            round(
                memos.amount_including_tax
                * case
                    when lower(coalesce(billing_invoices.currency_code, '')) in ('bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf') then 1
                    when lower(coalesce(billing_invoices.currency_code, '')) in ('bhd', 'jod', 'kwd', 'omr', 'tnd') then 1000
                    else 100
                end
            ) as bigint
        ) as amount_minor,
        cast('order_change' as {{ text }}) as reason,
        cast('ERP credit memo ' || memos.erp_credit_memo_number as {{ text }}) as memo,
        carried.credit_note_id as billing_credit_note_id,
        cast(
            case
                when carried.credit_note_id is not null then 'noop'
                when billing_invoices.invoice_id is null then 'review'
                when billing_invoices.status not in ('open', 'paid') then 'review'
                when billing_invoices.currency_code <> coalesce(nullif(memos.currency_code, ''), '{{ local_currency }}') then 'review'
                when memos.amount_including_tax <= 0 then 'review'
                when memos.amount_including_tax
                    > billing_invoices.total_amount - coalesce(credited.credited_amount, 0) then 'review'
                else 'insert'
            end
            as {{ text }}
        ) as operation
    from memos
    cross join erp_to_billing
    inner join erp_invoices
        on erp_invoices.erp_invoice_id = memos.erp_invoice_id
        and erp_invoices.billing_invoice_id is not null
    left join billing_invoices
        on billing_invoices.invoice_id = erp_invoices.billing_invoice_id
    left join credited
        on credited.invoice_id = erp_invoices.billing_invoice_id
    left join carried
        on carried.erp_document_number = memos.erp_credit_memo_number

)

select
    documents.*,
    -- a paid invoice is credited out of band: the money moved (or will) outside billing, in the ERP
    case when billing_invoice_status = 'paid' then amount_minor end as out_of_band_amount_minor,
    -- what would be written (the target invoice and the payload), the reverse ETL's change detector
    {{ syncline.record_hash(['billing_invoice_id', 'amount_minor', 'billing_invoice_status', 'reason', 'memo', 'erp_document_number']) }}
        as record_hash
from documents
