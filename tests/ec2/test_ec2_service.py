"""The EC2 endpoint helper: region from the URL, credentials never from the environment."""
import os

import pytest

from condorsim.daemons.ec2_service import (CredentialsError, EC2Service, isolate_from_ambient_credentials,
                                           read_secret_file, region_for)


@pytest.mark.parametrize("url, region", [
    ("https://ec2.amazonaws.com/", "us-east-1"),
    ("https://ec2.eu-west-3.amazonaws.com/", "eu-west-3"),
    ("https://ec2.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ("http://127.0.0.1:5000/", "ap-south-1"),  # any other endpoint: EC2_REGION
])
def test_region_from_url_host_else_ec2_region(url, region):
    assert region_for(url, "ap-south-1") == region


def test_credentials_files_are_trimmed_and_unreadable_ones_named(tmp_path):
    path = tmp_path / "secret"
    path.write_text("  s3cret \n")
    assert read_secret_file(str(path)) == "s3cret"
    with pytest.raises(CredentialsError) as error:
        read_secret_file(str(tmp_path / "missing"))
    assert str(error.value) == f"Failed to read credentials file {tmp_path}/missing (No such file or directory)"


def test_ambient_credentials_are_never_used(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDAMBIENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient")
    monkeypatch.setenv("AWS_PROFILE", "someone")
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"):
        monkeypatch.setenv(name, "x")  # so that monkeypatch puts them back as they were
    isolate_from_ambient_credentials()
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    key, secret = tmp_path / "id", tmp_path / "secret"
    key.write_text("AKIDFILE\n")
    secret.write_text("from-file\n")
    service = EC2Service("http://127.0.0.1:9/", str(key), str(secret), region="us-east-1",
                         rate_limit=0, timeout=1)
    client = service._client_for(read_secret_file(str(key)), read_secret_file(str(secret)))
    assert client._request_signer._credentials.access_key == "AKIDFILE"
