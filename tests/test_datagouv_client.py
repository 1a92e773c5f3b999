"""The data.gouv.fr client against the real udata: account, organizations, invitations,
reference lists, datasets and remote resources, and how refusals are explained."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hdh_wizard import __version__
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv import (
    ApiError,
    DataGouvClient,
    ErrorKind,
    Organization,
    describe,
)
from tests.udata_local.server import OPEN_SCIENCE, PARTNER, UdataServer

FR = load_catalogue(Lang.FR)
EN = load_catalogue(Lang.EN)


def _no_wait(_seconds: float) -> None:
    pass


@pytest.fixture
def partner(udata_server: UdataServer) -> Iterator[DataGouvClient]:
    with DataGouvClient(udata_server.url, PARTNER.api_key, sleep=_no_wait) as client:
        yield client


@pytest.fixture
def open_science(udata_server: UdataServer) -> Iterator[DataGouvClient]:
    with DataGouvClient(udata_server.url, OPEN_SCIENCE.api_key, sleep=_no_wait) as client:
        yield client


def _unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


@pytest.fixture
def organization(partner: DataGouvClient) -> Organization:
    return partner.create_organization(
        _unique("Consortium VisioMel"),
        "Consortium de recherche sur le mélanome.",
        acronym="VM",
        url="https://visiomel.example.org",
    )


def _template_payload(org_id: str) -> dict[str, Any]:
    return {
        "title": _unique("Base mélanome VisioMel"),
        "description": "## Présentation\n" + "Images histologiques de mélanomes, 2012 à 2016. " * 4,
        "description_short": "Images histologiques de mélanomes anonymisées.",
        "organization": org_id,
        "license": "lov2",
        "frequency": "punctual",
        "temporal_coverage": {"start": "2012-01-01", "end": "2016-12-31"},
        "spatial": {"zones": ["country:fr"], "granularity": "country"},
        "tags": ["hdh", "health-data-hub", "melanoma", "data-challenge"],
        "private": True,
    }


def _explained(error: ApiError) -> None:
    """The paragraph starts with the plain explanation of its kind, in either language."""
    assert describe(error, FR).startswith(FR.t(error.explanation_key))
    assert describe(error, EN).startswith(EN.t(error.explanation_key))


# --- account -----------------------------------------------------------------------------------


def test_me_with_the_partners_key_names_the_account(partner: DataGouvClient) -> None:
    me = partner.me()
    assert me.email == PARTNER.email
    assert me.display_name == PARTNER.full_name
    assert me.id


def test_a_wrong_key_is_refused_explained_and_never_shown(
    udata_server: UdataServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_key = "udata_" + "0f" * 20
    caplog.set_level(logging.DEBUG)
    client = DataGouvClient(udata_server.url, wrong_key, sleep=_no_wait)
    with client, pytest.raises(ApiError) as caught:
        client.me()
    error = caught.value
    assert error.kind is ErrorKind.UNAUTHORIZED
    assert error.status == 401
    assert error.attempts == 1  # a refused key is not tried again
    _explained(error)
    for text in (str(error), repr(error), describe(error, FR), repr(client), caplog.text):
        assert wrong_key not in text


class RecordingTransport(httpx.HTTPTransport):
    """Sends for real, and keeps the headers of each request sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Headers] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.headers)
        return super().handle_request(request)


def test_requests_carry_the_key_and_the_wizards_name_but_never_a_session_cookie(
    udata_server: UdataServer,
) -> None:
    transport = RecordingTransport()
    with DataGouvClient(udata_server.url, PARTNER.api_key, transport=transport) as client:
        client.me()
        client.me()
    first, second = transport.sent
    assert first["X-API-KEY"] == PARTNER.api_key
    assert first["User-Agent"] == f"hdh-wizard/{__version__}"
    # udata answers with a session cookie that authenticates on its own, even beside a wrong
    # key: sent back, it would make any later key look valid.
    assert "cookie" not in second


# --- organizations and invitations -------------------------------------------------------------


def test_an_organization_is_created_then_read_and_listed_among_mine(
    partner: DataGouvClient, organization: Organization
) -> None:
    assert organization.acronym == "VM"
    assert organization.url == "https://visiomel.example.org"
    me = partner.me()
    assert [m.user_id for m in organization.members] == [me.id]
    assert organization.members[0].role == "admin"

    read = partner.organization(organization.id)
    assert (read.id, read.name, read.slug) == (
        organization.id,
        organization.name,
        organization.slug,
    )
    assert read.description == "Consortium de recherche sur le mélanome."

    mine = partner.my_organizations()
    assert organization.id in [org.id for org in mine]
    assert organization.ref in me.organizations


def test_open_science_invited_by_email_accepts_and_becomes_co_administrator(
    partner: DataGouvClient, open_science: DataGouvClient, organization: Organization
) -> None:
    invitation = partner.invite_member(
        organization.id, email=OPEN_SCIENCE.email, comment="Co-administration HDH"
    )
    assert invitation.organization_id == organization.id
    assert invitation.role == "admin"
    assert invitation.status == "pending"
    assert not partner.invitation_accepted(organization.id, invitation)

    pending = [i for i in open_science.my_invitations() if i.organization_id == organization.id]
    assert [i.id for i in pending] == [invitation.id]
    open_science.accept_invitation(invitation.id)

    assert partner.invitation_accepted(organization.id, invitation)
    members = {m.user_id: m.role for m in partner.organization(organization.id).members}
    assert members[open_science.me().id] == "admin"


def test_open_science_invited_by_user_id_accepts_and_becomes_co_administrator(
    partner: DataGouvClient, open_science: DataGouvClient, organization: Organization
) -> None:
    invitee = open_science.me()
    invitation = partner.invite_member(organization.id, user_id=invitee.id)
    assert invitation.user_id == invitee.id
    assert not partner.invitation_accepted(organization.id, invitation)

    open_science.accept_invitation(invitation.id)

    assert partner.invitation_accepted(organization.id, invitation)
    # The invitee, who may not read the organization's requests, sees it from the members.
    assert open_science.invitation_accepted(organization.id, invitation)


def test_inviting_the_same_person_twice_is_a_field_error(
    partner: DataGouvClient, organization: Organization
) -> None:
    partner.invite_member(organization.id, email=OPEN_SCIENCE.email)
    with pytest.raises(ApiError) as caught:
        partner.invite_member(organization.id, email=OPEN_SCIENCE.email)
    assert caught.value.kind is ErrorKind.INVALID
    assert "user" in caught.value.field_errors
    _explained(caught.value)


def test_a_contact_point_is_made_once_and_kept_by_dataset_updates(
    partner: DataGouvClient, organization: Organization
) -> None:
    contact = partner.ensure_contact_point(
        organization.id, name="Équipe VisioMel", email="contact@visiomel.example.org"
    )
    again = partner.ensure_contact_point(
        organization.id, name="Équipe VisioMel", email="contact@visiomel.example.org"
    )
    assert again == contact

    created = partner.create_dataset(
        {**_template_payload(organization.id), "contact_points": [contact]}
    )
    partner.update_dataset(created["id"], {"title": "Titre modifié"})

    read = partner.dataset(created["id"])
    assert [point["id"] for point in read["contact_points"]] == [contact]
    assert read["contact_points"][0]["email"] == "contact@visiomel.example.org"


def test_a_contact_point_without_address_is_refused(
    partner: DataGouvClient, organization: Organization
) -> None:
    with pytest.raises(ApiError) as caught:
        partner.ensure_contact_point(organization.id, name="Équipe VisioMel", email="")
    assert caught.value.kind is ErrorKind.INVALID
    assert "email" in caught.value.server_message


# --- reference lists ---------------------------------------------------------------------------


def test_reference_lists_come_from_the_server(partner: DataGouvClient) -> None:
    licences = {lic.id: lic for lic in partner.licenses()}
    assert {"lov2", "fr-lo", "odc-odbl", "notspecified"} <= set(licences)
    assert "2.0" in licences["lov2"].title

    frequencies = {f.id for f in partner.frequencies()}
    assert {"punctual", "irregular", "unknown", "annual"} <= frequencies

    suggested = {zone.id: zone for zone in partner.zones_suggest("rhône")}
    assert "fr:departement:69" in suggested
    assert suggested["fr:departement:69"].level == "fr:departement"

    france = partner.zone("country:fr")
    assert (france.id, france.name, france.code, france.level) == (
        "country:fr",
        "France",
        "fr",
        "country",
    )

    assert "country" in {g.id for g in partner.granularities()}

    extensions = partner.allowed_extensions()
    assert {"csv", "tiff"} <= extensions
    assert "exe" not in extensions


def test_an_unknown_zone_is_not_found(partner: DataGouvClient) -> None:
    with pytest.raises(ApiError) as caught:
        partner.zone("country:atlantis")
    assert caught.value.kind is ErrorKind.NOT_FOUND
    _explained(caught.value)


# --- datasets ----------------------------------------------------------------------------------


def test_dataset_created_with_every_template_field(
    partner: DataGouvClient, organization: Organization
) -> None:
    payload = _template_payload(organization.id)
    created = partner.create_dataset(payload)

    read = partner.dataset(created["id"])
    assert read["title"] == payload["title"]
    assert read["description"] == payload["description"]
    assert read["description_short"] == payload["description_short"]
    assert read["organization"]["id"] == organization.id
    assert read["license"] == "lov2"
    assert read["frequency"] == "punctual"
    assert read["temporal_coverage"] == {"start": "2012-01-01", "end": "2016-12-31"}
    assert read["spatial"]["zones"] == ["country:fr"]
    assert read["spatial"]["granularity"] == "country"
    assert sorted(read["tags"]) == sorted(payload["tags"])
    assert read["private"] is True


def test_update_dataset_keeps_the_fields_it_does_not_change(
    partner: DataGouvClient, organization: Organization
) -> None:
    payload = _template_payload(organization.id)
    created = partner.create_dataset(payload)

    updated = partner.update_dataset(created["id"], {"title": "Nouveau titre de la base"})

    assert updated["title"] == "Nouveau titre de la base"
    read = partner.dataset(created["id"])
    assert read["title"] == "Nouveau titre de la base"
    assert read["temporal_coverage"] == {"start": "2012-01-01", "end": "2016-12-31"}
    assert sorted(read["tags"]) == sorted(payload["tags"])
    assert read["spatial"]["zones"] == ["country:fr"]
    assert (read["license"], read["frequency"]) == ("lov2", "punctual")
    assert read["organization"]["id"] == organization.id
    assert read["private"] is True


def test_an_invalid_frequency_is_a_field_error_on_frequency(
    partner: DataGouvClient, organization: Organization
) -> None:
    payload = {**_template_payload(organization.id), "frequency": "sometimes"}
    with pytest.raises(ApiError) as caught:
        partner.create_dataset(payload)
    error = caught.value
    assert error.kind is ErrorKind.INVALID
    assert list(error.field_errors) == ["frequency"]
    assert "sometimes" in describe(error, FR)
    _explained(error)


def test_an_unknown_zone_and_granularity_are_field_errors_under_spatial(
    partner: DataGouvClient, organization: Organization
) -> None:
    payload = {
        **_template_payload(organization.id),
        "spatial": {"zones": ["atlantis"], "granularity": "continent"},
    }
    with pytest.raises(ApiError) as caught:
        partner.create_dataset(payload)
    assert set(caught.value.field_errors) == {"spatial.zones", "spatial.granularity"}


def test_a_dataset_for_an_organization_not_joined_is_a_field_error_on_organization(
    partner: DataGouvClient, open_science: DataGouvClient
) -> None:
    others = open_science.create_organization(_unique("Autre organisation"), "Pas la vôtre.")
    with pytest.raises(ApiError) as caught:
        partner.create_dataset(_template_payload(others.id))
    error = caught.value
    assert error.kind is ErrorKind.INVALID
    assert list(error.field_errors) == ["organization"]
    assert error.attempts == 1  # a creation is never sent twice


def test_an_unknown_licence_is_saved_as_notspecified_so_callers_check_the_list(
    partner: DataGouvClient, organization: Organization
) -> None:
    created = partner.create_dataset({**_template_payload(organization.id), "license": "lo-v2"})
    assert created["license"] == "notspecified"  # the server's trap: no error at all
    assert "lo-v2" not in {lic.id for lic in partner.licenses()}


def test_publish_clears_private_and_keeps_the_rest(
    partner: DataGouvClient, organization: Organization
) -> None:
    created = partner.create_dataset(_template_payload(organization.id))
    published = partner.publish_dataset(created["id"])
    assert published["private"] is False
    read = partner.dataset(created["id"])
    assert read["private"] is False
    assert read["temporal_coverage"] == {"start": "2012-01-01", "end": "2016-12-31"}


def test_another_users_dataset_is_forbidden_and_explained(
    partner: DataGouvClient, open_science: DataGouvClient, organization: Organization
) -> None:
    created = partner.create_dataset({**_template_payload(organization.id), "private": False})
    with pytest.raises(ApiError) as caught:
        open_science.update_dataset(created["id"], {"title": "Pas à moi"})
    error = caught.value
    assert error.kind is ErrorKind.FORBIDDEN
    assert (error.method, error.status) == ("PUT", 403)
    _explained(error)
    assert partner.dataset(created["id"])["title"] == created["title"]


def test_missing_and_deleted_datasets_are_explained(
    partner: DataGouvClient, organization: Organization, udata_server: UdataServer
) -> None:
    with pytest.raises(ApiError) as missing:
        partner.dataset("0123456789abcdef01234567")
    assert missing.value.kind is ErrorKind.NOT_FOUND
    _explained(missing.value)

    created = partner.create_dataset({**_template_payload(organization.id), "private": False})
    partner.delete_dataset(created["id"])
    partner.delete_dataset(created["id"])  # already deleted: nothing left to do
    with DataGouvClient(udata_server.url, None) as anonymous, pytest.raises(ApiError) as gone:
        anonymous.dataset(created["id"])
    assert gone.value.kind is ErrorKind.GONE
    _explained(gone.value)
    with pytest.raises(ApiError) as edit_gone:
        partner.update_dataset(created["id"], {"title": "Trop tard"})
    assert edit_gone.value.kind is ErrorKind.GONE


# --- remote resources --------------------------------------------------------------------------


def test_remote_resource_is_created_and_updated_without_losing_its_checksum(
    partner: DataGouvClient, organization: Organization
) -> None:
    dataset = partner.create_dataset(_template_payload(organization.id))
    digest = "ab" * 32
    created = partner.create_remote_resource(
        dataset["id"],
        title="patients_stade_1.csv",
        url="http://127.0.0.1:9000/hdh-open-data/visiomel/patients_stade_1.csv",
        format="csv",
        description="Patients au stade 1.",
        filesize=1_800_000_000,
        checksum=("sha256", digest),
    )
    assert created["filetype"] == "remote"
    assert created["checksum"] == {"type": "sha256", "value": digest}
    assert created["filesize"] == 1_800_000_000

    updated = partner.update_resource(
        dataset["id"], created["id"], {"description": "Patients au stade 1 (2012-2016)."}
    )
    assert updated["description"] == "Patients au stade 1 (2012-2016)."
    assert updated["url"] == created["url"]
    assert updated["checksum"] == created["checksum"]
    assert updated["filesize"] == created["filesize"]
    assert updated["title"] == "patients_stade_1.csv"

    partner.delete_resource(dataset["id"], created["id"])
    assert partner.dataset(dataset["id"])["resources"] == []
    with pytest.raises(ApiError) as caught:
        partner.delete_resource(dataset["id"], created["id"])
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_inviting_needs_exactly_one_of_email_and_user_id(
    partner: DataGouvClient, organization: Organization
) -> None:
    with pytest.raises(ValueError):
        partner.invite_member(organization.id)
    with pytest.raises(ValueError):
        partner.invite_member(organization.id, email=OPEN_SCIENCE.email, user_id="abc")
