# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The AWX objects of awx/configure.yml and the execution environment fit the collection.

- the credential type injects only what the roles read: environment variables that
  roles/cluster_certs looks up, extra variables that are options of cluster_certs (defaults and
  argument spec), AppRole selected, and the kube_* roles' Vault settings follow those variables;
  every injector template uses declared inputs only, and every input is injected;
- the job templates run playbooks that exist, the rotation with the Vault credential and never two
  at a time, the report without it and with a variable that the report playbook reads;
- the schedules are daily RRULEs of those job templates, the report after the rotation;
- tasks that handle a secret have no_log;
- execution-environment.yml installs requirements/controller.txt and requirements.yml with the
  same pins, and this collection from the tarball that `ansible-galaxy collection build` makes;
- awx.awx is needed by awx/configure.yml only, not by the collection.

Every check is a function that returns its findings; the tests at the bottom break copies of the
real files and show that each check fails where it should.
"""

from __future__ import annotations

import copy
import fnmatch
import pathlib
import re

import jinja2
import jinja2.meta
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
CONFIGURE = REPO / "awx" / "configure.yml"
VAULT_CREDENTIAL_TYPE_MODULE = "awx.awx.credential_type"
# Variables whose values are secrets: every task that mentions one must have no_log.
SECRET_VARS = ("hardway_awx_vault_secret_id", "vault_pki_rotation_secret_id", "hardway_awx_ssh_private_key",
               "hardway_awx_notification_configuration")
COMPONENT_ROLES = ("kube_apiserver", "kube_controller_manager")


def load(path: pathlib.Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def play() -> dict:
    plays = load(CONFIGURE)
    assert isinstance(plays, list) and len(plays) == 1, "awx/configure.yml: expected one play"
    return plays[0]


def task_with(tasks: list[dict], module: str) -> dict:
    found = [task for task in tasks if module in task]
    assert len(found) == 1, f"awx/configure.yml: expected one {module} task, found {len(found)}"
    return found[0]


def awx_template(value: str) -> str:
    """The template AWX receives: Ansible renders the playbook's {% raw %} blocks away first."""
    return jinja2.Environment().from_string(value).render() if "{% raw %}" in value else value


def resolve(value, play_vars: dict):
    """Follow plain "{{ name }}" references to the play's variables (enough for names and rules)."""
    for _hop in range(10):
        match = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", value) if isinstance(value, str) else None
        if not match:
            return value
        value = play_vars[match.group(1)]
    raise AssertionError(f"reference loop at {value!r}")


def env_read_by(role: str) -> set[str]:
    text = (REPO / "roles" / role / "vars" / "main.yml").read_text(encoding="utf-8")
    return set(re.findall(r"lookup\('ansible\.builtin\.env', '(\w+)'\)", text))


def role_interface(role: str) -> tuple[dict, dict]:
    defaults = load(REPO / "roles" / role / "defaults" / "main.yml") or {}
    options = load(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    return defaults, options


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------
def credential_type_problems(spec: dict, env_read: set[str], certs_defaults: dict, certs_options: dict,
                             component_defaults: dict[str, dict]) -> list[str]:
    """What is wrong with the credential type's inputs and injectors."""
    problems = []
    fields = {field["id"]: field for field in spec["inputs"]["fields"]}
    injectors = spec["injectors"]
    env = {key: awx_template(value) for key, value in injectors.get("env", {}).items()}
    extra_vars = {key: awx_template(value) for key, value in injectors.get("extra_vars", {}).items()}
    files = {key: awx_template(value) for key, value in injectors.get("file", {}).items()}

    for name in sorted(set(env) - env_read):
        problems.append(f"env {name} is not read by roles/cluster_certs (it reads {sorted(env_read)})")
    for name in ("VAULT_ADDR", "VAULT_CACERT"):
        if name not in env:
            problems.append(f"env {name} is not injected")
    if "VAULT_TOKEN" in env:
        problems.append("env VAULT_TOKEN is injected: the credential is the AppRole, not a token")
    if env.get("VAULT_CACERT", "").replace(" ", "") != "{{tower.filename}}" or list(files) != ["template"]:
        problems.append("VAULT_CACERT must name the one file the credential writes ({{ tower.filename }})")

    for name in sorted(extra_vars):
        if name not in certs_defaults or name not in certs_options:
            problems.append(f"extra var {name} is not an option of roles/cluster_certs")
    if extra_vars.get("cluster_certs_vault_auth_method") != "approle":
        problems.append("extra var cluster_certs_vault_auth_method must be approle")
    elif "approle" not in certs_options["cluster_certs_vault_auth_method"].get("choices", []):
        problems.append("cluster_certs_vault_auth_method does not offer approle")
    for name in ("cluster_certs_vault_role_id", "cluster_certs_vault_secret_id"):
        if name not in extra_vars:
            problems.append(f"extra var {name} is not injected")

    for role, defaults in component_defaults.items():
        for name in extra_vars:
            own = name.replace("cluster_certs_", f"{role}_", 1)
            if own not in defaults:
                problems.append(f"roles/{role} has no {own} to follow {name}")
            elif not re.search(rf"\b{name}\b", str(defaults[own])):
                problems.append(f"roles/{role}: {own} does not default to {name} ({defaults[own]!r})")

    used = set()
    for where, template in [(f"env {k}", v) for k, v in env.items()] + [(f"extra var {k}", v) for k, v in extra_vars.items()] \
            + [(f"file {k}", v) for k, v in files.items()]:
        names = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(template))
        for name in sorted(names - set(fields) - {"tower"}):
            problems.append(f"{where} uses {name}, which is not an input")
        used |= names
    for name in sorted(set(fields) - used):
        problems.append(f"input {name} is never injected")
    for name in sorted(set(fields) - set(spec["inputs"].get("required", []))):
        problems.append(f"input {name} is not required (every input is injected, so each must be given)")
    if not fields.get("secret_id", {}).get("secret"):
        problems.append("input secret_id is not marked secret")
    return problems


def job_template_problems(task: dict, play_vars: dict, repo: pathlib.Path) -> list[str]:
    """What is wrong with the job templates (the loop of the awx.awx.job_template task)."""
    problems = []
    args = task["awx.awx.job_template"]
    if args.get("allow_simultaneous") is not False:
        problems.append("allow_simultaneous must be false: two rotations at once would restart hosts together")
    vault_credential = play_vars["hardway_awx_vault_credential"]
    by_playbook = {}
    for item in task["loop"]:
        playbook = resolve(item["playbook"], play_vars)
        by_playbook[playbook] = item
        path = repo / playbook
        plays = load(path) if path.is_file() else None
        if not (isinstance(plays, list) and plays and all({"hosts", "import_playbook", "ansible.builtin.import_playbook"} & set(p) for p in plays)):
            problems.append(f"job template {resolve(item['name'], play_vars)!r}: {playbook} is not a playbook of this repository")
            continue
        for name in item.get("extra_vars") or {}:
            if not re.search(rf"\b{name}\b", path.read_text(encoding="utf-8")):
                problems.append(f"extra var {name} of {playbook} is not used by that playbook")
    rotate = by_playbook.get("playbooks/rotate_certs.yml")
    report = by_playbook.get("playbooks/cert_report.yml")
    if rotate is None or report is None:
        problems.append(f"job templates must run playbooks/rotate_certs.yml and playbooks/cert_report.yml, not {sorted(by_playbook)}")
        return problems
    credentials = [resolve(c, play_vars) for c in rotate["credentials"]]
    if vault_credential not in credentials:
        problems.append("the rotation job template lacks the Vault credential")
    if vault_credential in [resolve(c, play_vars) for c in report["credentials"]]:
        problems.append("the report job template carries the Vault credential, which it does not need")
    if not 1 <= int(resolve(rotate["forks"], play_vars)) <= 50:
        problems.append("forks of the rotation job template should be between 1 and 50")
    return problems


RRULE = re.compile(r"DTSTART:(?P<date>\d{8})T(?P<time>\d{6})Z RRULE:(?P<rule>[A-Z]+=[A-Z0-9,]+(;[A-Z]+=[A-Z0-9,]+)*)")


def schedule_problems(task: dict, job_template_task: dict, play_vars: dict) -> list[str]:
    """What is wrong with the schedules (the loop of the awx.awx.schedule task)."""
    problems = []
    templates = {resolve(item["name"], play_vars): resolve(item["playbook"], play_vars) for item in job_template_task["loop"]}
    starts = {}
    for item in task["loop"]:
        name, rrule = resolve(item["name"], play_vars), resolve(item["rrule"], play_vars)
        template = resolve(item["job_template"], play_vars)
        if template not in templates:
            problems.append(f"schedule {name!r} runs {template!r}, which is not one of the job templates {sorted(templates)}")
            continue
        match = RRULE.fullmatch(rrule)
        if not match:
            problems.append(f"schedule {name!r}: {rrule!r} is not 'DTSTART:YYYYMMDDTHHMMSSZ RRULE:...'")
            continue
        rule = dict(part.split("=", 1) for part in match.group("rule").split(";"))
        if rule.get("FREQ") != "DAILY" or rule.get("INTERVAL", "1") != "1" or {"COUNT", "UNTIL"} & set(rule):
            problems.append(f"schedule {name!r}: {rrule!r} is not every day without end")
        starts[templates[template]] = match.group("time")
    if "playbooks/rotate_certs.yml" not in starts:
        problems.append("no daily schedule for the rotation")
    elif starts.get("playbooks/cert_report.yml", "999999") <= starts["playbooks/rotate_certs.yml"]:
        problems.append("the report must run after the rotation of the same day")
    return problems


def no_log_problems(tasks: list[dict]) -> list[str]:
    """Tasks that template a secret variable without no_log (conditions only test it and show no value)."""
    problems = []
    for task in tasks:
        for inner in task.get("block", [task]):
            args = {k: v for k, v in inner.items() if k not in ("name", "when")}
            if isinstance(args.get("ansible.builtin.assert"), dict):
                args["ansible.builtin.assert"] = {k: v for k, v in args["ansible.builtin.assert"].items() if k != "that"}
            text = " ".join(re.findall(r"\{\{.*?\}\}", yaml.safe_dump(args, width=10000), re.DOTALL))
            secrets = [name for name in SECRET_VARS if re.search(rf"\b{name}\b", text)]
            if secrets and inner.get("no_log") is not True and task.get("no_log") is not True:
                problems.append(f"task {inner.get('name')!r} handles {', '.join(secrets)} without no_log")
    return problems


def pin(path: pathlib.Path, package: str) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(rf"{re.escape(package)}\s*==", line):
            return line.split("#")[0].replace(" ", "")
    return None


def execution_environment_problems(ee: dict, repo: pathlib.Path) -> list[str]:
    """What is wrong with execution-environment.yml."""
    problems = []
    deps = ee.get("dependencies", {})
    if ee.get("version") != 3:
        problems.append("version must be 3 (ansible-builder 3)")
    if deps.get("python") != "requirements/controller.txt":
        problems.append(f"dependencies.python must be requirements/controller.txt, not {deps.get('python')!r}")
    if deps.get("galaxy") != "requirements.yml":
        problems.append(f"dependencies.galaxy must be requirements.yml, not {deps.get('galaxy')!r}")
    for key in ("python", "galaxy"):
        if isinstance(deps.get(key), str) and not (repo / deps[key]).is_file():
            problems.append(f"dependencies.{key}: {deps[key]} does not exist")
    for key, package, source in (("ansible_core", "ansible-core", "requirements/controller.txt"),
                                 ("ansible_runner", "ansible-runner", "requirements/test.txt")):
        wanted = pin(repo / source, package)
        if deps.get(key, {}).get("package_pip") != wanted:
            problems.append(f"dependencies.{key} must be {wanted} as in {source}, not {deps.get(key, {}).get('package_pip')!r}")
    system = " ".join(deps.get("system") or [])
    for package in ("openssh-clients", "openssl"):
        if not re.search(rf"(^| ){package} \[", system):
            problems.append(f"dependencies.system lacks {package}")
    base = ee.get("images", {}).get("base_image", {}).get("name", "")
    if "/" in base and re.search(r"[.:]|^localhost$", base.split("/")[0]):
        problems.append(f"the base image {base!r} names a registry: give it with --build-arg EE_BASE_IMAGE instead")
    galaxy = load(repo / "galaxy.yml")
    tarball = f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    files = [entry for entry in ee.get("additional_build_files", []) if fnmatch.fnmatch(f"build/ee/{tarball}", entry["src"])]
    steps = " ".join(ee.get("additional_build_steps", {}).get("append_galaxy", []))
    if not files:
        problems.append(f"additional_build_files does not take build/ee/{tarball} (ansible-galaxy collection build --output-path build/ee)")
    elif not re.search(rf"ansible-galaxy collection install .*/build/{files[0]['dest']}/{re.escape(galaxy['namespace'])}-", steps):
        problems.append("append_galaxy does not install the collection tarball")
    return problems


# --------------------------------------------------------------------------
# The real files
# --------------------------------------------------------------------------
def real_inputs():
    the_play = play()
    certs_defaults, certs_options = role_interface("cluster_certs")
    components = {role: role_interface(role)[0] for role in COMPONENT_ROLES}
    return the_play, certs_defaults, certs_options, components


def test_credential_type_injects_what_the_roles_read():
    the_play, certs_defaults, certs_options, components = real_inputs()
    spec = task_with(the_play["tasks"], VAULT_CREDENTIAL_TYPE_MODULE)[VAULT_CREDENTIAL_TYPE_MODULE]
    assert spec["kind"] == "cloud"
    assert credential_type_problems(spec, env_read_by("cluster_certs"), certs_defaults, certs_options, components) == []


def test_credential_fills_every_input_of_the_type():
    tasks = play()["tasks"]
    spec = task_with(tasks, VAULT_CREDENTIAL_TYPE_MODULE)[VAULT_CREDENTIAL_TYPE_MODULE]
    credentials = [t["awx.awx.credential"] for t in tasks if "awx.awx.credential" in t]
    vault = [c for c in credentials if c["credential_type"] == "{{ hardway_awx_vault_credential_type }}"]
    assert len(vault) == 1
    assert set(vault[0]["inputs"]) == {field["id"] for field in spec["inputs"]["fields"]}


def test_job_templates_run_the_playbooks_of_this_repository():
    the_play = play()
    assert job_template_problems(task_with(the_play["tasks"], "awx.awx.job_template"), the_play["vars"], REPO) == []


def test_schedules_are_daily():
    the_play = play()
    tasks = the_play["tasks"]
    assert schedule_problems(task_with(tasks, "awx.awx.schedule"), task_with(tasks, "awx.awx.job_template"), the_play["vars"]) == []


def test_tasks_with_secrets_have_no_log():
    assert no_log_problems(play()["tasks"]) == []


def test_execution_environment_installs_the_collection_and_its_requirements():
    assert execution_environment_problems(load(REPO / "execution-environment.yml"), REPO) == []


def test_awx_collection_is_needed_by_the_awx_playbook_only():
    names = {item["name"] for item in load(REPO / "awx" / "requirements.yml")["collections"]}
    assert names == {"awx.awx"}
    assert "awx.awx" not in {item["name"] for item in load(REPO / "requirements.yml")["collections"]}
    assert "awx.awx" not in load(REPO / "galaxy.yml")["dependencies"]
    modules = set(re.findall(r"^\s+(?:- )?([a-z_]+\.[a-z_]+\.[a-z_]+):", CONFIGURE.read_text(encoding="utf-8"), re.MULTILINE))
    assert {m for m in modules if m.startswith("awx.awx.")}, "awx/configure.yml uses no awx.awx module"
    assert {m.split(".")[0] + "." + m.split(".")[1] for m in modules} <= {"awx.awx", "ansible.builtin"}


# --------------------------------------------------------------------------
# Each check fails where it should
# --------------------------------------------------------------------------
def test_credential_type_check_finds_what_the_roles_do_not_read():
    the_play, certs_defaults, certs_options, components = real_inputs()
    good = task_with(the_play["tasks"], VAULT_CREDENTIAL_TYPE_MODULE)[VAULT_CREDENTIAL_TYPE_MODULE]
    env_read = env_read_by("cluster_certs")

    def problems_after(change) -> list[str]:
        spec = copy.deepcopy(good)
        change(spec)
        return credential_type_problems(spec, env_read, certs_defaults, certs_options, components)

    renamed = problems_after(lambda s: s["injectors"]["extra_vars"].update(
        cluster_certs_vault_secretid=s["injectors"]["extra_vars"].pop("cluster_certs_vault_secret_id")))
    assert any("cluster_certs_vault_secretid is not an option" in p for p in renamed)
    assert any("cluster_certs_vault_secret_id is not injected" in p for p in renamed)
    assert any("VAULT_TOKEN" in p for p in problems_after(lambda s: s["injectors"]["env"].update(VAULT_TOKEN="{{ secret_id }}")))
    assert any("VAULT_NAMESPACE is not read" in p for p in problems_after(lambda s: s["injectors"]["env"].update(VAULT_NAMESPACE="x")))
    assert any("must be approle" in p for p in problems_after(lambda s: s["injectors"]["extra_vars"].update(cluster_certs_vault_auth_method="token")))
    assert any("uses vault_url" in p for p in problems_after(lambda s: s["injectors"]["env"].update(VAULT_ADDR="{{ vault_url }}")))
    assert any("input approle_mount is never injected" in p
               for p in problems_after(lambda s: s["injectors"]["extra_vars"].pop("cluster_certs_vault_approle_mount")))
    assert any("not marked secret" in p
               for p in problems_after(lambda s: [f.pop("secret", None) for f in s["inputs"]["fields"] if f["id"] == "secret_id"]))
    assert any("VAULT_CACERT must name" in p for p in problems_after(lambda s: s["injectors"]["env"].update(VAULT_CACERT="/etc/ca.pem")))

    broken = copy.deepcopy(components)
    broken["kube_apiserver"]["kube_apiserver_vault_secret_id"] = ""
    assert any("kube_apiserver_vault_secret_id does not default to cluster_certs_vault_secret_id" in p
               for p in credential_type_problems(good, env_read, certs_defaults, certs_options, broken))


def test_job_template_check_finds_missing_playbooks_and_concurrency():
    the_play = play()
    good = task_with(the_play["tasks"], "awx.awx.job_template")

    missing = copy.deepcopy(good)
    missing["loop"][0]["playbook"] = "playbooks/rotate.yml"
    assert any("playbooks/rotate.yml is not a playbook" in p for p in job_template_problems(missing, the_play["vars"], REPO))
    not_a_playbook = copy.deepcopy(good)
    not_a_playbook["loop"][1]["playbook"] = "requirements.yml"
    assert any("requirements.yml is not a playbook" in p for p in job_template_problems(not_a_playbook, the_play["vars"], REPO))
    simultaneous = copy.deepcopy(good)
    simultaneous["awx.awx.job_template"]["allow_simultaneous"] = True
    assert any("allow_simultaneous" in p for p in job_template_problems(simultaneous, the_play["vars"], REPO))
    no_vault = copy.deepcopy(good)
    no_vault["loop"][0]["credentials"] = no_vault["loop"][0]["credentials"][:1]
    assert any("lacks the Vault credential" in p for p in job_template_problems(no_vault, the_play["vars"], REPO))
    unused = copy.deepcopy(good)
    unused["loop"][1]["extra_vars"] = {"cert_report_days": 2}
    assert any("cert_report_days" in p for p in job_template_problems(unused, the_play["vars"], REPO))


def test_schedule_check_finds_rules_that_are_not_daily():
    the_play = play()
    tasks = the_play["tasks"]
    job_templates = task_with(tasks, "awx.awx.job_template")

    def problems_with(rotate_rule: str, report_rule: str | None = None) -> list[str]:
        play_vars = dict(the_play["vars"], hardway_awx_rotate_rrule=rotate_rule)
        if report_rule:
            play_vars["hardway_awx_report_rrule"] = report_rule
        return schedule_problems(task_with(tasks, "awx.awx.schedule"), job_templates, play_vars)

    assert problems_with("DTSTART:20260101T030000Z RRULE:FREQ=DAILY") == []
    assert any("not every day" in p for p in problems_with("DTSTART:20260101T030000Z RRULE:FREQ=WEEKLY;INTERVAL=1"))
    assert any("not every day" in p for p in problems_with("DTSTART:20260101T030000Z RRULE:FREQ=DAILY;INTERVAL=2"))
    assert any("not every day" in p for p in problems_with("DTSTART:20260101T030000Z RRULE:FREQ=DAILY;COUNT=3"))
    assert any("is not 'DTSTART" in p for p in problems_with("RRULE:FREQ=DAILY"))
    assert any("after the rotation" in p for p in problems_with("DTSTART:20260101T060000Z RRULE:FREQ=DAILY;INTERVAL=1"))
    orphan = copy.deepcopy(task_with(tasks, "awx.awx.schedule"))
    orphan["loop"][0]["job_template"] = "hardway rotate"
    assert any("not one of the job templates" in p for p in schedule_problems(orphan, job_templates, the_play["vars"]))


def test_no_log_check_finds_secrets_in_logged_tasks():
    tasks = copy.deepcopy(play()["tasks"])
    for task in tasks:
        if task.get("awx.awx.credential", {}).get("credential_type") == "{{ hardway_awx_vault_credential_type }}":
            task.pop("no_log")
    assert any("hardway_awx_vault_secret_id" in p for p in no_log_problems(tasks))
    shown = copy.deepcopy(play()["tasks"])
    shown[0]["ansible.builtin.assert"]["fail_msg"] += " {{ hardway_awx_ssh_private_key }}"
    assert any("'Check the input' handles hardway_awx_ssh_private_key" in p for p in no_log_problems(shown))


def test_execution_environment_check_finds_other_requirements():
    good = load(REPO / "execution-environment.yml")

    def problems_after(change) -> list[str]:
        ee = copy.deepcopy(good)
        change(ee)
        return execution_environment_problems(ee, REPO)

    assert any("requirements/controller.txt" in p for p in problems_after(lambda e: e["dependencies"].update(python="requirements.txt")))
    assert any("dependencies.galaxy" in p for p in problems_after(lambda e: e["dependencies"].pop("galaxy")))
    assert any("ansible-core==2.19.14" in p
               for p in problems_after(lambda e: e["dependencies"]["ansible_core"].update(package_pip="ansible-core==2.18.0")))
    assert any("lacks openssh-clients" in p for p in problems_after(lambda e: e["dependencies"].update(system=["openssl [platform:rpm]"])))
    assert any("names a registry" in p
               for p in problems_after(lambda e: e["images"]["base_image"].update(name="registry.example.com/ee-minimal:latest")))
    assert any("does not take build/ee" in p for p in problems_after(lambda e: e["additional_build_files"][0].update(src="dist/*.tar.gz")))
    assert any("does not install" in p for p in problems_after(lambda e: e["additional_build_steps"].update(append_galaxy=[])))
