"""Store table names of the support imitation, and the indexes its cursors page on."""

ORGS = "support_organizations"
USERS = "support_users"
TICKETS = "support_tickets"
FIELDS = "support_organization_fields"
JOBS = "support_job_statuses"

INDEXES = {
    # id: cursor and offset lists; updated: incremental exports; external_key (external_id casefolded:
    # Zendesk matches it case-insensitively): upsert and search; name_key: the unique-name rule and
    # name search; organization_id: a customer's users.
    ORGS: ("id", "updated", "name_key", "external_key"),
    USERS: ("id", "updated", "organization_id"),
    TICKETS: ("id", "updated"),
    FIELDS: ("id",),
    JOBS: (),
}
