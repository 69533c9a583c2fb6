{#
  Outbound desired state for the ERP (Business Central salesInvoices / salesCreditMemos): one row per
  billing document that must be posted or corrected, from invoice_reconciliation.

  - missing_in_erp -> operation 'insert': the reverse ETL posts it (after creating the customer when
    requires_customer; BC has no upsert by external key, so it looks the external document number up
    first).
  - every other finding with an action (wrong customer, currency, amount, tax, posted although void,
    posted twice) -> operation 'review': a posted document is the ERP's (ownership seed), a person
    corrects it; the row is reported, never written (DESIGN 7: a conflicting edit is reported, not
    overwritten).

  Only documents the ownership seed lets billing write into the ERP are emitted
  (field_ownership: invoice.billing_document, owner billing, sync_targets containing erp).
#}

{%- set text = dbt.type_string() -%}
{%- set money = syncline.money_type() -%}
{%- set local_currency = var('erp_local_currency_code', 'USD') -%}

with reconciliation as (

    select * from {{ ref('invoice_reconciliation') }}

),

billing_documents as (

    select * from {{ ref('int_billing_documents') }}

),

invoice_lines as (

    select * from {{ ref('stg_billing__invoice_lines') }}

),

credit_notes as (

    select * from {{ ref('stg_billing__credit_notes') }}

),

erp_customers as (

    select * from {{ ref('stg_erp__customers') }}

),

party_references as (

    select * from {{ ref('int_party_references') }}

),

party_matches as (

    select * from {{ source('identity', 'party_matches') }}

),

-- The seed decides whether billing documents may be written into the ERP at all (and billing, the
-- system this model reads them from, must own them).
billing_to_erp as (

    select owner_system
    from {{ syncline.fields_received_by('erp') }} as erp_fields
    where entity = 'invoice'
        and field = 'billing_document'
        and owner_system = 'billing'

),

to_sync as (

    select *
    from reconciliation
    where action_needed <> 'none'

),

-- The ERP customer record a golden customer posts to: not blocked for invoicing, then the one other
-- systems reference (the customer number finance gave out), then the lowest number.
erp_inbound_references as (

    select target_source_id as erp_customer_id, count(*) as inbound_reference_count
    from party_references
    where target_system = 'erp'
        and is_resolved
    group by target_source_id

),

erp_candidates as (

    select
        party_matches.golden_id as golden_customer_id,
        erp_customers.erp_customer_id,
        erp_customers.erp_customer_number,
        erp_customers.is_blocked,
        row_number() over (
            partition by party_matches.golden_id
            order by
                case when erp_customers.is_blocked then 1 else 0 end,
                coalesce(erp_inbound_references.inbound_reference_count, 0) desc,
                erp_customers.erp_customer_number,
                erp_customers.erp_customer_id
        ) as candidate_rank
    from party_matches
    inner join erp_customers
        on erp_customers.erp_customer_id = party_matches.source_id
    left join erp_inbound_references
        on erp_inbound_references.erp_customer_id = erp_customers.erp_customer_id
    where party_matches.source_system = 'erp'

),

erp_targets as (

    select * from erp_candidates where candidate_rank = 1

),

-- Lines summary: a single per-unit billing line as is (seats x unit price); several lines or a tiered
-- price -> one line of quantity 1 at the subtotal.
ranked_lines as (

    select
        invoice_lines.invoice_id,
        invoice_lines.description,
        invoice_lines.quantity,
        invoice_lines.unit_amount,
        -- tiered prices carry the first tier's unit amount: then quantity x unit price is not the amount
        invoice_lines.quantity * invoice_lines.unit_amount = invoice_lines.amount as is_per_unit,
        row_number() over (
            partition by invoice_lines.invoice_id
            order by
                case when invoice_lines.line_type = 'subscription' then 0 else 1 end,
                invoice_lines.amount desc,
                invoice_lines.invoice_line_id
        ) as line_rank
    from invoice_lines
    inner join to_sync
        on to_sync.billing_document_id = invoice_lines.invoice_id

),

first_lines as (

    select * from ranked_lines where line_rank = 1

),

-- One typed row per document to write. What invoice_reconciliation already computed (the billing
-- document's number, date, currency and amounts, the finding and its action) is read from there.
documents as (

    select
        to_sync.billing_document_id,
        to_sync.document_kind,
        cast(
            case when to_sync.document_kind = 'invoice' then 'salesInvoices' else 'salesCreditMemos' end
            as {{ text }}
        ) as erp_entity_set,
        to_sync.golden_customer_id,
        to_sync.billing_customer_id,
        to_sync.reconciliation_status,
        to_sync.action_needed,
        cast(case when to_sync.action_needed = 'post_to_erp' then 'insert' else 'review' end as {{ text }}) as operation,
        cast(erp_targets.erp_customer_id as {{ text }}) as erp_customer_id,
        cast(erp_targets.erp_customer_number as {{ text }}) as erp_customer_number,
        cast(coalesce(erp_targets.is_blocked, false) as boolean) as erp_customer_is_blocked,
        cast(erp_targets.erp_customer_id is null as boolean) as requires_customer,
        to_sync.erp_document_id,
        to_sync.erp_document_number,
        to_sync.billing_document_id as external_document_number,
        to_sync.billing_document_date as document_date,
        to_sync.billing_currency_code as currency_code,
        -- Business Central leaves the local currency (LCY) blank on documents
        cast(
            case when to_sync.billing_currency_code = '{{ local_currency }}' then '' else to_sync.billing_currency_code end
            as {{ text }}
        ) as erp_currency_code,
        cast(billing.invoice_id as {{ text }}) as applies_to_billing_invoice_id,
        credited_invoice.erp_document_id as applies_to_erp_invoice_id,
        cast(
            case
                when to_sync.document_kind = 'credit_note'
                    then 'Credit note ' || coalesce(to_sync.billing_document_number, to_sync.billing_document_id)
                        || coalesce(' (' || credit_notes.reason || ')', '')
                when billing.line_count > 1
                    then first_lines.description || ' (+' || cast(billing.line_count - 1 as {{ text }}) || ' more lines)'
                else first_lines.description
            end
            as {{ text }}
        ) as line_description,
        cast(
            case
                when to_sync.document_kind = 'invoice' and billing.line_count = 1 and first_lines.is_per_unit
                    then first_lines.quantity
                else 1
            end
            as bigint
        ) as line_quantity,
        cast(
            case
                when to_sync.document_kind = 'credit_note' then to_sync.billing_amount_excluding_tax
                when billing.line_count = 1 and first_lines.is_per_unit then first_lines.unit_amount
                else billing.subtotal
            end
            as {{ money }}
        ) as line_unit_price,
        cast(
            case
                when to_sync.document_kind = 'credit_note' then 0
                else billing.discount_amount
            end
            as {{ money }}
        ) as line_discount_amount,
        to_sync.billing_amount_excluding_tax as amount_excluding_tax,
        to_sync.billing_tax_amount as tax_amount,
        to_sync.billing_amount_including_tax as amount_including_tax
    from to_sync
    inner join billing_documents as billing
        on billing.billing_document_id = to_sync.billing_document_id
    cross join billing_to_erp
    left join erp_targets
        on erp_targets.golden_customer_id = to_sync.golden_customer_id
    left join first_lines
        on first_lines.invoice_id = to_sync.billing_document_id
    left join credit_notes
        on credit_notes.credit_note_id = to_sync.billing_document_id
    -- the credited invoice's ERP document (one per billing invoice there, even if posted twice)
    left join reconciliation as credited_invoice
        on to_sync.document_kind = 'credit_note'
        and credited_invoice.billing_document_id = billing.invoice_id

)

select
    documents.*,
    -- hash of what would be written (target + payload), the reverse ETL's change detector
    {{ syncline.record_hash([
        'operation', 'erp_entity_set', 'erp_customer_id', 'erp_customer_number', 'external_document_number',
        'document_date', 'erp_currency_code', 'applies_to_erp_invoice_id', 'line_description',
        'line_quantity', 'line_unit_price', 'line_discount_amount', 'amount_including_tax',
    ]) }} as record_hash
from documents
