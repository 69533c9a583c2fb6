{#
  HubSpot owner id (the golden account_owner, owned by the CRM) -> Business Central salesperson code,
  learned from the customers both systems hold: an owner maps to the code most of its customers carry
  in the ERP, when that is a clear majority. Neither API exposes the mapping, and the ERP's own
  salesperson codes are what a push must write. Owners without a clear majority are left out, so
  neither the drift report nor the sync touches their customers' salesperson code.
#}

with crosswalk as (

    select * from {{ ref('customer_crosswalk') }}

),

crm_companies as (

    select crm_company_id, owner_id from {{ ref('stg_crm__companies') }}

),

erp_customers as (

    select erp_customer_id, salesperson_code from {{ ref('stg_erp__customers') }}

),

pairs as (

    select
        crm_companies.owner_id as crm_owner_id,
        upper(erp_customers.salesperson_code) as erp_salesperson_code,
        crm.golden_customer_id
    from crosswalk as crm
    inner join crosswalk as erp
        on erp.golden_customer_id = crm.golden_customer_id
        and erp.source_system = 'erp'
    inner join crm_companies
        on crm_companies.crm_company_id = crm.source_id
    inner join erp_customers
        on erp_customers.erp_customer_id = erp.source_id
    where crm.source_system = 'crm'
        and crm_companies.owner_id is not null
        and erp_customers.salesperson_code is not null

),

counted as (

    select
        crm_owner_id,
        erp_salesperson_code,
        count(distinct golden_customer_id) as shared_customer_count
    from pairs
    group by crm_owner_id, erp_salesperson_code

),

ranked as (

    select
        counted.*,
        sum(shared_customer_count) over (partition by crm_owner_id) as owner_customer_count,
        row_number() over (
            partition by crm_owner_id
            order by shared_customer_count desc, erp_salesperson_code
        ) as preference
    from counted

)

select
    crm_owner_id,
    erp_salesperson_code,
    cast(shared_customer_count as bigint) as shared_customer_count,
    cast(owner_customer_count as bigint) as owner_customer_count,
    cast(1.0 * shared_customer_count / owner_customer_count as numeric(9, 6)) as agreement_rate
from ranked
where preference = 1
    -- a clear majority of at least three customers, or the guess is worse than no update
    and shared_customer_count >= 3
    and 2 * shared_customer_count > owner_customer_count
