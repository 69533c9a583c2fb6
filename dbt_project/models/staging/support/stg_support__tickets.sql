{%- set src = source('raw_support', 'tickets') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as ticket_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'subject', dbt.type_string())) }} as subject,
    lower({{ syncline.clean_text(syncline.column_or_null(cols, 'type', dbt.type_string())) }}) as ticket_type,
    lower({{ syncline.clean_text(syncline.column_or_null(cols, 'priority', dbt.type_string())) }}) as priority,
    lower(status) as status,
    lower(status) in ('new', 'open', 'pending', 'hold') as is_open,
    {{ syncline.column_or_null(cols, 'requester_id', 'bigint') }} as requester_id,
    {{ syncline.column_or_null(cols, 'submitter_id', 'bigint') }} as submitter_id,
    {{ syncline.column_or_null(cols, 'assignee_id', 'bigint') }} as assignee_id,
    {{ syncline.column_or_null(cols, 'organization_id', 'bigint') }} as support_organization_id,
    {{ syncline.column_or_null(cols, 'group_id', 'bigint') }} as group_id,
    {{ syncline.json_text_or_null(cols, 'via', 'channel') }} as channel,
    {{ syncline.json_as_text(syncline.column_or_null(cols, 'tags', dbt.type_string())) }} as tags,
    {{ syncline.utc_timestamp(cols, 'created_at') }} as created_at,
    {{ syncline.utc_timestamp(cols, 'updated_at') }} as updated_at,
    {{ syncline.utc_timestamp(cols, 'due_at') }} as due_at,
    _dlt_load_id

from source
