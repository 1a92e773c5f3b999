"""The hosted files' public URLs, asked as anyone would (no credentials), on the local S3 server:
a bucket HDH opened for reading gives the files; a closed one, a wrong address, a dead host are
each told apart, so the page never references dead links unknowingly."""

from __future__ import annotations

import json
import socket

import httpx

from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.storage.public_access import Access, check_all_public
from tests.s3_local import new_bucket, raw_client

CAT = load_catalogue(Lang.FR)
BODY = b"id;stade\n1;I\n"


def bucket_with_file(endpoint: str, *, public: bool) -> str:
    bucket = new_bucket(endpoint)
    client = raw_client(endpoint)
    client.put_object(Bucket=bucket, Key="p/a b.csv", Body=BODY)
    if public:
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return f"{endpoint}/{bucket}/p/a%20b.csv"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_public_bucket_gives_each_file_to_anyone(s3_server: str) -> None:
    url = bucket_with_file(s3_server, public=True)
    (result,) = check_all_public([(url, len(BODY))])
    assert result.ok and result.access is Access.PUBLIC
    assert httpx.get(url).content == BODY  # what the check said: anyone downloads it


def test_a_bucket_not_opened_to_the_public_is_named_as_such(s3_server: str) -> None:
    url = bucket_with_file(s3_server, public=False)
    (result,) = check_all_public([(url, len(BODY))])
    assert result.access is Access.FORBIDDEN and not result.ok
    assert "ouvrir en lecture publique" in result.message(CAT, "a b.csv")
    assert "403" in result.message(CAT, "a b.csv")


def test_a_wrong_address_a_different_file_and_a_dead_host_are_told_apart(s3_server: str) -> None:
    url = bucket_with_file(s3_server, public=True)
    seen = []
    results = check_all_public(
        [
            (url.replace("a%20b", "absent"), len(BODY)),
            (url, len(BODY) + 1),
            (f"http://127.0.0.1:{closed_port()}/b/a.csv", 1),
        ],
        checked=seen.append,
    )
    assert [r.access for r in results] == [Access.MISSING, Access.WRONG_SIZE, Access.UNREACHABLE]
    assert seen == results
    assert "injoignable (—)" in results[2].message(CAT, "a.csv")
