import pytest

from hardway_lab import system
from hardway_lab.config import LabConfig, LabError, check_subnet


# Anything outside 198.18.0.0/15 is refused; neighbours of the range and the pod range stand in for all others.
@pytest.mark.parametrize("subnet", ["198.17.255.0/24", "198.20.0.0/24", "127.0.0.0/24", "100.64.0.0/24", "203.0.113.0/24"])
def test_subnets_outside_the_benchmark_range_are_refused(subnet):
    with pytest.raises(LabError, match="outside 198.18.0.0/15"):
        check_subnet(subnet)


def test_a_subnet_inside_the_range_is_accepted():
    assert str(check_subnet("198.19.4.0/24")) == "198.19.4.0/24"


@pytest.mark.parametrize("subnet, message", [("not-a-net", "not a network"), ("198.18.0.0/28", "too small"),
                                             ("198.18.0.1/24", "not a network")])
def test_bad_subnets_say_what_is_wrong(subnet, message):
    with pytest.raises(LabError, match=message):
        check_subnet(subnet)


def test_environment_overrides_paths_and_subnet():
    config = LabConfig.from_env({"HARDWAY_LAB_STATE": "/s", "HARDWAY_LAB_CACHE": "/c", "HARDWAY_LAB_SUBNET": "198.19.7.0/24"})
    assert (str(config.state_dir), str(config.cache_dir)) == ("/s", "/c")
    assert config.gateway == "198.19.7.1"
    assert config.host_address(0) == "198.19.7.11"
    assert config.mirror_url == "http://198.19.7.1:8080"
    assert config.vault_addr == "https://198.19.7.1:8200"


def test_the_environment_cannot_smuggle_in_another_range():
    with pytest.raises(LabError, match="outside 198.18.0.0/15"):
        LabConfig.from_env({"HARDWAY_LAB_SUBNET": "100.64.1.0/24"})


def test_too_many_machines_for_the_subnet(config):
    with pytest.raises(LabError, match="too many machines"):
        config.host_address(245)


def test_root_is_required_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="the lab needs root"):
        system.require_root()


def test_deb822_sources_are_read(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://security.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert system.apt_mirror("bookworm", (tmp_path,)) == "http://mirror.invalid/debian"


def test_disabled_deb822_stanzas_are_skipped(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "a.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://off.invalid/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://on.invalid/debian\nSuites: bookworm\nComponents: main contrib\n"
    )
    assert system.apt_mirror("bookworm", (tmp_path,)) == "http://on.invalid/debian"


def test_one_line_sources_are_read(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# deb http://old.invalid/debian bookworm main\ndeb-src http://src.invalid/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian bookworm main contrib\n"
    )
    assert system.apt_mirror("bookworm", (tmp_path,)) == "http://mirror.invalid/debian"


def test_no_source_for_the_suite_is_an_error(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://mirror.invalid/debian trixie main\n")
    with pytest.raises(LabError, match="no apt source for Debian bookworm"):
        system.apt_mirror("bookworm", (tmp_path,))
