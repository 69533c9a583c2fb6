{#
  Explicit same-party pairs for the identity matcher (identity.match_parties `cross_references`):
  the resolved references of int_party_references, one row per pair of records. The matcher links
  each pair with probability 1 (rule `cross_reference`).
#}

select
    source_system as source_system_l,
    source_id as source_id_l,
    target_system as source_system_r,
    target_source_id as source_id_r,
    party_record_id as party_record_id_l,
    target_party_record_id as party_record_id_r,
    min(reference_type) as reference_type,
    count(*) as reference_count
from {{ ref('int_party_references') }}
where is_resolved
group by source_system, source_id, target_system, target_source_id, party_record_id, target_party_record_id
