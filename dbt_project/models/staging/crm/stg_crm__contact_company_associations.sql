with source as (

    select * from {{ source('raw_crm', 'contact_company_associations') }}

)

select
    cast(contact_id as {{ dbt.type_string() }}) as crm_contact_id,
    cast(company_id as {{ dbt.type_string() }}) as crm_company_id,
    lower(association_type) as association_type,
    -- HubSpot's primary company of a contact (type contact_to_company); others are unlabeled
    lower(association_type) = 'contact_to_company' as is_primary,
    _dlt_load_id
from source
