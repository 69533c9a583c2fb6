{#
  The staging conversion of Stripe epoch seconds must agree with the `created_at` timestamp dlt
  typed from the same epoch (guards the epoch macro against precision loss, e.g. a 4-byte float).
#}
select
    customers.billing_customer_id,
    customers.created_at,
    raw.created_at as dlt_created_at
from {{ ref('stg_billing__customers') }} as customers
inner join {{ source('raw_billing', 'customers') }} as raw
    on raw.id = customers.billing_customer_id
where raw.created_at is not null
    and customers.created_at <> {{ syncline.tz_to_utc_timestamp('raw.created_at') }}
