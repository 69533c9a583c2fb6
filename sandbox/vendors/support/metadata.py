"""Metadata endpoints connectors call at check / discover time: `users/me`, `ticket_fields` and
`account/settings` (Airbyte's Zendesk source checks its connection with the latter)."""

from __future__ import annotations

from sandbox.ids import numeric_id
from sandbox.world import DAY, SIM_NOW, to_iso

from .render import API, render_user

FIELDS_CREATED = SIM_NOW - 1_000 * DAY
# The system ticket fields every Zendesk account has: (type, title, description, key, required).
SYSTEM_TICKET_FIELDS = [
    ("subject", "Subject", "Please enter a brief description of the issue.", None, True),
    ("description", "Description", "Please enter the details of your request.", None, True),
    ("status", "Status", "Request status", None, False),
    ("tickettype", "Type", "Request type", None, False),
    ("priority", "Priority", "Request priority", None, False),
    ("group", "Group", "Request group", None, False),
    ("assignee", "Assignee", "Agent assigned to your request", None, True),
]


def render_ticket_field(
    position: int, kind: str, title: str, description: str, required: bool, base: str
) -> dict:
    field_id = numeric_id(f"ticket_field:{kind}")
    created = to_iso(FIELDS_CREATED)
    return {
        "url": f"{base}{API}/ticket_fields/{field_id}.json",
        "id": field_id,
        "type": kind,
        "title": title,
        "raw_title": title,
        "description": description,
        "raw_description": description,
        "position": position,
        "active": True,
        "required": required,
        "collapsed_for_agents": False,
        "regexp_for_validation": None,
        "title_in_portal": title,
        "raw_title_in_portal": title,
        "visible_in_portal": kind in ("subject", "description"),
        "editable_in_portal": kind in ("subject", "description"),
        "required_in_portal": kind in ("subject", "description"),
        "tag": None,
        "created_at": created,
        "updated_at": created,
        "removable": False,
        "key": None,
        "agent_description": None,
    }


def ticket_fields(base: str) -> dict:
    fields = [
        render_ticket_field(position, kind, title, description, required, base)
        for position, (kind, title, description, _key, required) in enumerate(SYSTEM_TICKET_FIELDS, start=1)
    ]
    return {"ticket_fields": fields, "next_page": None, "previous_page": None, "count": len(fields)}


def current_user(email: str, base: str) -> dict:
    """The user the API token belongs to: an admin of the account."""
    row = {
        "id": numeric_id(f"api-user:{email}"),
        "name": "Syncline Integration",
        "email": email,
        "phone": None,
        "role": "admin",
        "organization_id": None,
        "created": FIELDS_CREATED,
        "updated": FIELDS_CREATED,
    }
    return {"user": render_user(row, base)}


def account_settings() -> dict:
    """The parts of the account settings connectors look at (features on this plan)."""
    return {
        "settings": {
            "active_features": {
                "on_hold_status": True,
                "user_tagging": True,
                "ticket_tagging": True,
                "topic_suggestion": False,
                "voice": False,
                "business_hours": True,
                "customer_satisfaction": True,
                "satisfaction_prediction": False,
                "markdown": True,
                "allow_ccs": True,
                "organization_access_enabled": True,
                "explore": True,
                "sandbox": False,
            },
            "api": {
                "accepted_api_agreement": True,
                "api_password_access": "false",
                "api_token_access": "true",
            },
            "tickets": {"comments_public_by_default": True, "list_newest_comments_first": True},
            "localization": {"locale_ids": [1]},
        }
    }
