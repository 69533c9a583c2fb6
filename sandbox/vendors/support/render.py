"""Compact rows -> full Zendesk Support API objects, built at serve time (internal `_` keys never leave)."""

from __future__ import annotations

from sandbox.world import to_iso

from .entitlements import ENTITLEMENTS
from .jobs import JOB_TYPES

API = "/api/v2"

# Organization field definitions (`/api/v2/organization_fields`): the custom data the connectors read.
ORGANIZATION_FIELDS = [
    # key, type, title, description, options (dropdowns)
    (
        "plan",
        "dropdown",
        "Plan",
        "Billing plan code, kept in sync by the billing integration.",
        ["starter", "growth", "scale", "enterprise"],
    ),
    (
        "support_entitlement",
        "dropdown",
        "Support entitlement",
        "Support level the customer is entitled to.",
        ENTITLEMENTS,
    ),
    (
        "sla_policy",
        "text",
        "SLA policy",
        "Response-time policy applied to this organization's tickets.",
        None,
    ),
    (
        "erp_customer_number",
        "text",
        "ERP customer number",
        "Customer number in the ERP (e.g. C000123).",
        None,
    ),
    ("seats", "integer", "Seats", "Licensed seats across live subscriptions.", None),
    (
        "payment_status",
        "dropdown",
        "Payment status",
        "current, or delinquent when billing has an unpaid subscription: agents see it before promising anything.",
        ["current", "delinquent"],
    ),
    ("renewal_date", "date", "Renewal date", "Next renewal of the customer's live subscriptions.", None),
    ("account_owner", "text", "Account owner", "Sales owner of the account (CRM owner id).", None),
]
FIELD_TYPES = {key: kind for key, kind, *_ in ORGANIZATION_FIELDS}
DROPDOWN_OPTIONS = {key: options for key, kind, _t, _d, options in ORGANIZATION_FIELDS if options}


def render_organization(row: dict, base: str) -> dict:
    return {
        "url": f"{base}{API}/organizations/{row['id']}.json",
        "id": row["id"],
        "name": row["name"],
        "shared_tickets": row["shared"],
        "shared_comments": row["shared"],
        "external_id": row["external_id"],
        "created_at": to_iso(row["created"]),
        "updated_at": to_iso(row["updated"]),
        "domain_names": list(row["domains"]),
        "details": row["details"],
        "notes": row["notes"],
        "group_id": row["group_id"],
        "tags": list(row["tags"]),
        "organization_fields": {key: row["fields"].get(key) for key in FIELD_TYPES},
    }


def render_user(row: dict, base: str) -> dict:
    agent = row["role"] != "end-user"
    return {
        "id": row["id"],
        "url": f"{base}{API}/users/{row['id']}.json",
        "name": row["name"],
        "email": row["email"],
        "created_at": to_iso(row["created"]),
        "updated_at": to_iso(row["updated"]),
        "time_zone": "UTC",
        "iana_time_zone": "Etc/UTC",
        "phone": row["phone"],
        "shared_phone_number": None,
        "photo": None,
        "locale_id": 1,
        "locale": "en-US",
        "organization_id": row["organization_id"],
        "role": row["role"],
        "verified": True,
        "external_id": None,
        "tags": [],
        "alias": "",
        "active": True,
        "shared": False,
        "shared_agent": False,
        "last_login_at": to_iso(row["updated"]) if agent else None,
        "two_factor_auth_enabled": None,
        "signature": None,
        "details": "",
        "notes": "",
        "role_type": None,
        "custom_role_id": None,
        "moderator": agent,
        "ticket_restriction": None if agent else "requested",
        "only_private_comments": False,
        "restricted_agent": False,
        "suspended": False,
        "default_group_id": None,
        "report_csv": agent,
        "user_fields": {},
    }


def render_ticket(row: dict, base: str) -> dict:
    return {
        "url": f"{base}{API}/tickets/{row['id']}.json",
        "id": row["id"],
        "external_id": None,
        "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": to_iso(row["created"]),
        "updated_at": to_iso(row["updated"]),
        "generated_timestamp": row["updated"],
        "type": row["type"],
        "subject": row["subject"],
        "raw_subject": row["subject"],
        "description": row["description"],
        "priority": row["priority"],
        "status": row["status"],
        "recipient": "support@syncline.zendesk.com",
        "requester_id": row["requester_id"],
        "submitter_id": row["requester_id"],
        "assignee_id": row["assignee_id"],
        "organization_id": row["organization_id"],
        "group_id": None,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": [],
        "custom_fields": [],
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "fields": [],
        "followup_ids": [],
        "ticket_form_id": None,
        "brand_id": None,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }


def render_organization_field(row: dict, base: str) -> dict:
    return {
        "url": f"{base}{API}/organization_fields/{row['id']}.json",
        "id": row["id"],
        "type": row["type"],
        "key": row["key"],
        "title": row["title"],
        "raw_title": row["title"],
        "description": row["description"],
        "raw_description": row["description"],
        "position": row["position"],
        "active": True,
        "system": False,
        "regexp_for_validation": None,
        "created_at": to_iso(row["created"]),
        "updated_at": to_iso(row["created"]),
        "custom_field_options": [
            {"id": n, "name": value, "raw_name": value, "value": value}
            for n, value in enumerate(row["options"] or [], start=1)
        ]
        if row["options"]
        else None,
    }


def render_job_status(row: dict, base: str) -> dict:
    """The job as Zendesk shows it: queued, working (with progress), then completed with results."""
    done = row["status"] == "completed"
    return {
        "id": row["id"],
        "url": f"{base}{API}/job_statuses/{row['id']}.json",
        "job_type": JOB_TYPES[row["action"]],
        "total": row["total"],
        "progress": None if row["status"] == "queued" else row["progress"],
        "status": row["status"],
        "message": f"Completed at {to_iso(row['completed'])}" if done else None,
        "results": row["results"] if done else None,
    }
