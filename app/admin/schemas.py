"""The shapes of the administration API: organisations and people."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import In
from ..auth.models import ROLES


class AdminOrganisationIn(In):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="partner", validate=validate.OneOf(["partner", "own"]))
    contact_email = fields.String(load_default="", validate=validate.Length(max=320))


class AdminOrganisationOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    contact_email = fields.String(allow_none=True)
    active = fields.Boolean()
    people = fields.Integer()
    sers = fields.List(fields.String(), metadata={"description": "its active SERs, by name"})
    relationships = fields.Integer(metadata={"description": "relationships it is the partner of"})


class InviteIn(In):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1, max=len(ROLES)))
    organisation_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class PersonOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    organisation_id = fields.Integer()
    organisation = fields.String()
    roles = fields.List(fields.String())
    state = fields.String(metadata={"description": "invited | active | deactivated"})
    second_factor = fields.Boolean(metadata={"description": "two-step sign-in (TOTP) is on"})


class LinkOut(Schema):
    person = fields.Nested(PersonOut)
    url = fields.String(metadata={"description": "the one-time link (also e-mailed when mail is configured)"})
    emailed = fields.Boolean()


class SecondFactorPolicyIn(In):
    required_roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                                 validate=validate.Length(max=len(ROLES)),
                                 metadata={"description": "every role whose people must sign in with a second "
                                                          "factor (an empty list requires it of nobody)"})


class SecondFactorPolicyOut(Schema):
    required_roles = fields.List(fields.String(), metadata={
        "description": "the roles whose people must sign in with a second factor (TOTP); who has none is sent to "
                       "set it up after their password, and their browser session opens nothing else until then "
                       "(API tokens keep working)"})
    roles = fields.List(fields.String(), metadata={"description": "every role there is"})
