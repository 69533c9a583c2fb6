{#
  Golden ids retired by a merge and the surviving id they now point at (the identity step re-points
  older aliases when their target is merged away in turn, so one lookup is always enough).
#}

with aliases as (

    select * from {{ source('identity', 'golden_id_aliases') }}

)

select
    alias_id,
    golden_id as golden_customer_id,
    cast(retired_at as timestamp) as retired_at
from aliases
