import io
import tarfile

import pytest

from hardway_lab import artifacts, image
from hardway_lab.config import LabError

UPSTREAM = """module k8s.io/kubernetes

go 1.26.0

require (
\tk8s.io/api v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/kubectl => ./staging/src/k8s.io/kubectl
)
"""


def test_staging_modules_are_pinned_to_the_matching_release():
    go_mod = artifacts.kubernetes_go_mod("v1.36.3", UPSTREAM)
    assert "require k8s.io/kubernetes v1.36.3" in go_mod
    assert "go 1.26.0" in go_mod
    for module in ("k8s.io/api", "k8s.io/client-go", "k8s.io/kubectl"):
        assert f"\t{module} => {module} v0.36.3\n" in go_mod
    assert "./staging" not in go_mod


def test_a_go_mod_without_staging_lines_is_an_error():
    with pytest.raises(LabError, match="no staging replace lines"):
        artifacts.kubernetes_go_mod("v1.36.3", "module k8s.io/kubernetes\n\ngo 1.26.0\n")


@pytest.mark.parametrize("version", ["1.36.3", "v1.36", "v1.36.3-rc.0"])
def test_versions_must_be_release_tags(version):
    with pytest.raises(LabError, match="not of the form vX.Y.Z"):
        artifacts.kubernetes_ldflags(version)


def test_ldflags_stamp_the_version_kubectl_and_servers_print():
    flags = artifacts.kubernetes_ldflags("v1.36.3")
    assert "-X k8s.io/component-base/version.gitVersion=v1.36.3" in flags
    assert "-X k8s.io/client-go/pkg/version.gitVersion=v1.36.3" in flags
    assert "-X k8s.io/component-base/version.gitMinor=36" in flags


def test_etcd_go_mod_requires_every_module_at_the_release():
    go_mod = artifacts.etcd_go_mod("v3.6.16", "1.26.0")
    for module in ("api", "client/pkg", "client", "pkg", "server", "etcdctl", "etcdutl"):
        assert f"\tgo.etcd.io/etcd/{module}/v3 v3.6.16\n" in go_mod


def test_etcd_tarball_has_the_release_layout_and_is_reproducible():
    binaries = {"etcd": b"e", "etcdctl": b"c", "etcdutl": b"u"}
    data = artifacts.etcd_tarball("v3.6.16", binaries)
    assert data == artifacts.etcd_tarball("v3.6.16", binaries)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
        assert names == ["etcd-v3.6.16-linux-amd64"] + [f"etcd-v3.6.16-linux-amd64/{b}" for b in ("etcd", "etcdctl", "etcdutl")]
        member = archive.getmember("etcd-v3.6.16-linux-amd64/etcdctl")
        assert member.mode == 0o755 and archive.extractfile(member).read() == b"c"


def test_mirror_paths_follow_the_official_layout(config):
    assert artifacts.kubernetes_dir(config, "v1.36.3") == config.mirror_dir / "kubernetes/release/v1.36.3/bin/linux/amd64"
    assert artifacts.etcd_dir(config, "v3.6.16") == config.mirror_dir / "etcd/v3.6.16"
    assert artifacts.etcd_tarball_name("v3.6.16") == "etcd-v3.6.16-linux-amd64.tar.gz"


def test_publish_writes_the_binary_and_its_checksum(tmp_path):
    built = tmp_path / "kubectl"
    built.write_bytes(b"binary")
    target = tmp_path / "mirror" / "kubectl"
    artifacts._publish(built, target)
    assert target.read_bytes() == b"binary" and target.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "mirror" / "kubectl.sha256").read_text() == artifacts.sha256(built)


def test_pinned_versions_come_from_the_download_role(tmp_path):
    defaults = tmp_path / "main.yml"
    defaults.write_text('---\ndownload_kubernetes_version: "v1.2.3"\ndownload_etcd_version: "v3.4.5"\n')
    assert artifacts.pinned_versions(defaults) == {"kubernetes": "v1.2.3", "etcd": "v3.4.5"}


def test_the_image_key_changes_with_the_package_list():
    assert image.image_key("bookworm") == image.image_key("bookworm", tuple(reversed(image.PACKAGES)))
    assert image.image_key("bookworm") != image.image_key("bookworm", image.PACKAGES + ("vim",))
