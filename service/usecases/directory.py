"""Use cases on the directory (networks, schools, people, grants), credentials and templates."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from engine.access import Principal, can_see_person, refuse_self_grant
from engine.directory import (
    ApiToken,
    Grant,
    Network,
    Person,
    PersonErasure,
    School,
    StoredTemplate,
)
from engine.errors import AccessDenied, Conflict, InvalidRecord, NotFound
from engine.template import ADMIN_ROLE, Template
from engine.versions import removable, retirable
from service.auth import hash_password, issue_token, normalise_email
from service.usecases.base import UseCases, handles
from service.usecases.core import new_id
from service.usecases.events import RoleGranted
from service.usecases.messages import (
    AddGrant,
    AddNetwork,
    AddPerson,
    AddSchool,
    CreateToken,
    DeleteTemplateDraft,
    ErasePerson,
    GetNetwork,
    GetPerson,
    GetSchool,
    GetTemplate,
    ListNetworks,
    ListPeople,
    ListSchools,
    ListTemplates,
    ListTokens,
    MyDeadlineFeed,
    PersonGrants,
    PublishTemplate,
    RemoveGrant,
    RetireTemplate,
    RevokeToken,
    SetPassword,
    UploadTemplate,
    ValidateTemplate,
)
from service.usecases.notify import password_set_notice, token_made_notice
from service.usecases.work import announce

__all__: list[str] = []

log = logging.getLogger("peerloop.directory")


@handles(ListNetworks)
def list_networks(uc: UseCases, q: ListNetworks, caller: Principal) -> list[Network]:
    with uc.uow(readonly=True) as uow:
        return uow.directory.networks()


@handles(GetNetwork)
def get_network(uc: UseCases, q: GetNetwork, caller: Principal) -> Network:
    with uc.uow(readonly=True) as uow:
        return uow.directory.get_network(q.network_id)


@handles(AddNetwork)
def add_network(uc: UseCases, cmd: AddNetwork, caller: Principal) -> Network:
    caller.require_admin()
    network = Network(cmd.network_id or new_id("nlc"), cmd.name, cmd.chair_person_id)
    with uc.uow() as uow:
        if network.chair_person_id is not None:
            uow.directory.get_person(network.chair_person_id)
        uow.directory.add_network(network)
        uow.commit()
    return network


@handles(ListSchools)
def list_schools(uc: UseCases, q: ListSchools, caller: Principal) -> list[School]:
    with uc.uow(readonly=True) as uow:
        return uow.directory.schools(q.network_id)


@handles(GetSchool)
def get_school(uc: UseCases, q: GetSchool, caller: Principal) -> School:
    with uc.uow(readonly=True) as uow:
        return uow.directory.get_school(q.school_id)


@handles(AddSchool)
def add_school(uc: UseCases, cmd: AddSchool, caller: Principal) -> School:
    caller.require_admin()
    school = School(cmd.school_id or f"sch-{cmd.urn}", cmd.urn, cmd.name, cmd.phase, cmd.network_id)
    with uc.uow() as uow:
        if school.network_id is not None:
            uow.directory.get_network(school.network_id)
        uow.directory.add_school(school)
        uow.commit()
    return school


@handles(ListPeople)
def list_people(uc: UseCases, q: ListPeople, caller: Principal) -> list[Person]:
    with uc.uow(readonly=True) as uow:
        found = uow.directory.people(q.school_id)
    return [p for p in found if can_see_person(caller, p)]


def _visible_person(uc: UseCases, caller: Principal, person_id: str) -> Person:
    with uc.uow(readonly=True) as uow:
        person = uow.directory.get_person(person_id)
    if not can_see_person(caller, person):
        raise NotFound("person", person_id)
    return person


@handles(GetPerson)
def get_person(uc: UseCases, q: GetPerson, caller: Principal) -> Person:
    return _visible_person(uc, caller, q.person_id)


@handles(PersonGrants)
def person_grants(uc: UseCases, q: PersonGrants, caller: Principal) -> list[Grant]:
    _visible_person(uc, caller, q.person_id)
    if not (caller.is_admin or caller.id == q.person_id):
        raise AccessDenied("only an admin or the person may see their grants")
    with uc.uow(readonly=True) as uow:
        return uow.directory.grants_for(q.person_id)


@handles(AddPerson)
def add_person(uc: UseCases, cmd: AddPerson, caller: Principal) -> Person:
    caller.require_admin()
    # One stored spelling per address, so that NFC, NFD and fullwidth forms are one person.
    email = normalise_email(cmd.email)
    person = Person(cmd.person_id or new_id("p"), cmd.name, email, cmd.school_id)
    with uc.uow() as uow:
        if person.school_id is not None:
            uow.directory.get_school(person.school_id)
        if uow.directory.person_by_email(person.email) is not None:
            raise Conflict("person", person.email, "someone already has that email address")
        uow.directory.add_person(person)
        uow.commit()
    return person


ERASED_NAME = "Erased person"
"""Who an erased person is shown as, wherever their id still is."""


@handles(ErasePerson)
def erase_person(uc: UseCases, cmd: ErasePerson, caller: Principal) -> PersonErasure:
    """Erase the person's personal data everywhere, keeping their id (the history's chain
    still verifies, and a cycle still says that someone acted), and record who asked, why,
    who did it and when, with how much went.

    Raises:
        AccessDenied: the caller is not an admin.
        NotFound: no such person.
        Conflict: the caller erasing themselves (another admin must), or the person was
            erased already.
        InvalidRecord: who asked or why left empty.
    """
    caller.require_admin()
    asked_by, reason = " ".join(cmd.asked_by.split()), " ".join(cmd.reason.split())
    if not asked_by:
        raise InvalidRecord("asked_by", "say who asked for the erasure")
    if not reason:
        raise InvalidRecord("reason", "say what the request is (its date or reference)")
    if cmd.person_id == caller.id:
        raise Conflict("person", cmd.person_id, "another admin must erase you: you cannot")
    now = uc.now
    with uc.uow() as uow:
        person = uow.directory.get_person(cmd.person_id)
        if any(e.person_id == person.id for e in uow.personal_data.erasures()):
            raise Conflict("person", person.id, "this person's data was erased already")
        digest = hashlib.sha256(person.id.encode()).hexdigest()[:16]
        placeholder = Person(person.id, ERASED_NAME, f"erased-{digest}@erased.invalid", None)
        removed = uow.personal_data.erase(person, placeholder, now)
        erasure = PersonErasure(person.id, asked_by, reason, caller.id, now, removed)
        uow.personal_data.record(erasure)
        uow.commit()
    log.info("person.erased", extra={"person": person.id, "by": caller.id, **removed})
    return erasure


@handles(SetPassword)
def set_password(uc: UseCases, cmd: SetPassword, caller: Principal) -> None:
    _visible_person(uc, caller, cmd.person_id)
    if not (caller.is_admin or caller.id == cmd.person_id):
        raise AccessDenied("only an admin or the person may set their password")
    digest = hash_password(cmd.password)  # slow on purpose: outside the transaction
    with uc.uow() as uow:
        uow.directory.get_person(cmd.person_id)
        uow.credentials.set_password(cmd.person_id, digest, uc.now)
        if caller.id != cmd.person_id:
            # Whoever knows a password signs in as its owner: the owner hears that someone
            # else set theirs, in the same transaction.
            uow.inbox.deliver([password_set_notice(cmd.person_id, caller, uc.now)], uc.now)
        uow.commit()


@handles(AddGrant)
def add_grant(uc: UseCases, cmd: AddGrant, caller: Principal) -> Grant:
    """An admin gives someone a role; who gave it and when are kept with it, and the person
    is told (the host's head too, for a role that opens a school's confidential content)."""
    caller.require_admin()
    grant = Grant(
        new_id("g"), cmd.person_id, cmd.role, cmd.scope_kind, cmd.scope_id, caller.id, uc.now
    )
    with uc.uow() as uow:
        # Roles come from the templates (a draft's too: its roles may be given before it is
        # published); a role no template declares would give nothing, and is most likely a slip.
        templates = [
            uc.core.registry.machine(uow, s.template_id, s.version).template
            for s in uow.templates.list()
        ]
        known = {ADMIN_ROLE} | {r.id for t in templates for r in t.roles}
        if cmd.role not in known:
            raise InvalidRecord(
                "role",
                f"no template declares the role {cmd.role!r}: upload the framework's template "
                f"first. The roles are: {', '.join(sorted(known))}",
            )
        refuse_self_grant(caller, cmd.person_id, cmd.role, templates)
        uow.directory.get_person(grant.person_id)
        if grant.scope_kind == "global":
            if grant.scope_id is not None:
                raise InvalidRecord("scope_id", "a global grant has no scope id")
        elif grant.scope_id is None:
            raise InvalidRecord("scope_id", f"a {grant.scope_kind} grant needs a scope id")
        elif grant.scope_kind == "network":
            uow.directory.get_network(grant.scope_id)
        elif grant.scope_kind == "school":
            uow.directory.get_school(grant.scope_id)
        else:
            uow.cycles.get(grant.scope_id)
        uow.directory.add_grant(grant)
        uow.commit()
    announce(
        RoleGranted(
            grant.id,
            grant.person_id,
            grant.role,
            grant.scope_kind,
            grant.scope_id,
            caller.id,
            uc.now,
        )
    )
    return grant


@handles(RemoveGrant)
def remove_grant(uc: UseCases, cmd: RemoveGrant, caller: Principal) -> None:
    caller.require_admin()
    with uc.uow() as uow:
        uow.directory.remove_grant(cmd.grant_id)
        uow.commit()


@handles(MyDeadlineFeed)
def my_deadline_feed(uc: UseCases, q: MyDeadlineFeed, caller: Principal) -> bytes:
    with uc.uow(readonly=True) as uow:
        return uc.feed_of(uow, caller.person.id)


# -- credentials -------------------------------------------------------------------------------


@handles(CreateToken)
def create_token(uc: UseCases, cmd: CreateToken, caller: Principal) -> tuple[ApiToken, str]:
    """An admin makes a token (people make their own by signing in). One made for someone
    else names its issuer, and that person is told in the same transaction: there is no
    token made in someone's name that they cannot know about."""
    caller.require_admin()
    now = uc.now
    with uc.uow() as uow:
        token, secret = issue_token(
            uow, cmd.person_id, cmd.name, now, now + timedelta(days=cmd.days), issued_by=caller.id
        )
        if token.made_by_someone_else:
            tz = uc.core.registry.calendars.tz
            uow.inbox.deliver([token_made_notice(token, caller, tz)], now)
        uow.commit()
    return token, secret


@handles(ListTokens)
def list_tokens(uc: UseCases, q: ListTokens, caller: Principal) -> list[ApiToken]:
    person = q.person_id if caller.is_admin else caller.id
    with uc.uow(readonly=True) as uow:
        return uow.credentials.tokens(person)


@handles(RevokeToken)
def revoke_token(uc: UseCases, cmd: RevokeToken, caller: Principal) -> ApiToken:
    with uc.uow() as uow:
        token = uow.credentials.get_token(cmd.token_id)
        if not (caller.is_admin or token.person_id == caller.id):
            raise NotFound("token", cmd.token_id)
        token = uow.credentials.revoke_token(cmd.token_id, uc.now)
        uow.commit()
    return token


# -- templates ---------------------------------------------------------------------------------


@handles(ListTemplates)
def list_templates(uc: UseCases, q: ListTemplates, caller: Principal) -> list[StoredTemplate]:
    with uc.uow(readonly=True) as uow:
        found = uow.templates.list()
    if q.template_id is None:
        return found
    mine = [t for t in found if t.template_id == q.template_id]
    if not mine:
        raise NotFound("template", q.template_id)
    return mine


@handles(GetTemplate)
def get_template(
    uc: UseCases, q: GetTemplate, caller: Principal
) -> tuple[StoredTemplate, Template]:
    with uc.uow(readonly=True) as uow:
        version = q.version
        if version is None:
            version = uow.templates.latest(q.template_id, published=False).version
        stored = uow.templates.get(q.template_id, version)
        return stored, uc.core.registry.machine(uow, q.template_id, version).template


@handles(UploadTemplate)
def upload_template(uc: UseCases, cmd: UploadTemplate, caller: Principal) -> StoredTemplate:
    caller.require_admin()
    return uc.core.upload_template(cmd.text, cmd.name, publish=cmd.publish)


@handles(ValidateTemplate)
def validate_template(uc: UseCases, q: ValidateTemplate, caller: Principal) -> Template:
    return uc.core.validate_template(q.text, q.name)


@handles(PublishTemplate)
def publish_template(uc: UseCases, cmd: PublishTemplate, caller: Principal) -> StoredTemplate:
    caller.require_admin()
    return uc.core.publish_template(cmd.template_id, cmd.version)


@handles(RetireTemplate)
def retire_template(uc: UseCases, cmd: RetireTemplate, caller: Principal) -> StoredTemplate:
    """Raises NotFound, or Conflict for a draft (delete it instead). Retiring again keeps the
    first retirement."""
    caller.require_admin()
    with uc.uow() as uow:
        retirable(cmd.template_id, cmd.version, uow.templates.versions(cmd.template_id))
        stored = uow.templates.retire(cmd.template_id, cmd.version, uc.now)
        uow.commit()
    return stored


@handles(DeleteTemplateDraft)
def delete_template_draft(uc: UseCases, cmd: DeleteTemplateDraft, caller: Principal) -> None:
    """Raises NotFound, or Conflict for a published version (retire it instead)."""
    caller.require_admin()
    with uc.uow() as uow:
        removable(cmd.template_id, cmd.version, uow.templates.versions(cmd.template_id))
        uow.templates.remove_draft(cmd.template_id, cmd.version)
        uow.commit()
