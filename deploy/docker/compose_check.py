#!/usr/bin/env python3
"""Checks docker-compose.yml as `docker-compose config` renders it (see compose_test.sh).

  compose_check.py --default D.yml --observability O.yml --replicated R.yml --all-settings A.yml \
      --project DIR .env.example docs/configuration.md docs/deployment.md .dockerignore \
      [deploy/docker/*.dockerignore...]

D, O and R are rendered without a .env (O with --profile observability, R with --profile
replicated), A with a .env setting every name of .env.example to "from-env-NAME". Which service reads which setting comes from
the tables of docs/configuration.md (which //tests/docs:settings_doc_test holds to each binary's
--help): the section a row is in, and the gateway too where a row of the services' table says
"the gateway reads it too". Every published host port must be named in docs/deployment.md.
Exits 1, listing every problem.
"""

import argparse
import os
import re
import sys

import yaml

# docs/configuration.md section -> the compose services that read its settings.
CONFIG_SECTIONS = {
    "mds-api and mds-consumer": {"mds-api", "mds-consumer"},
    "mds-api": {"mds-api"},
    "mds-consumer": {"mds-consumer"},
    "gateway": {"gateway"},
}
SERVICES = {"mds-api", "mds-consumer", "gateway"}
# Addresses inside the compose network: fixed, whatever .env says (a .env written for the
# local stack names 127.0.0.1).
FIXED = {
    "DATABASE_URL": "postgresql://mds:mds@postgres:5432,postgres-standby:5432/marketdata"
                    "?target_session_attrs=read-write",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "MDS_API_LISTEN": "0.0.0.0:50051",
    "MDS_API_METRICS_LISTEN": "0.0.0.0:9101",
    "MDS_CONSUMER_LISTEN": "0.0.0.0:50052",
    "MDS_CONSUMER_METRICS_LISTEN": "0.0.0.0:9102",
    "GATEWAY_LISTEN": ":8000",
    "MDS_API_ADDR": "mds-api:50051",
    "MDS_CONSUMER_ADDR": "mds-consumer:50052",
}
# mds-api and mds-consumer read an empty variable as "the default"; the gateway does not.
EMPTY_MEANS_DEFAULT = {"mds-api", "mds-consumer"}
OBSERVABILITY = {"prometheus", "grafana", "kafka-ui"}
REPLICATED = {"kafka-2", "kafka-3", "postgres-standby"}
PROFILES = {**{name: "observability" for name in OBSERVABILITY},
            **{name: "replicated" for name in REPLICATED}}
# Published host ports, each named in docs/deployment.md.
HOST_PORTS = {
    "postgres": {15432}, "kafka": {9094}, "mds-api": {15051, 9101},
    "mds-consumer": {15052, 9102}, "gateway": {8000},
    "prometheus": {9090}, "grafana": {3000}, "kafka-ui": {8080},
    "kafka-2": {9095}, "kafka-3": {9096}, "postgres-standby": {15532},
}
# What each service does after SIGTERM before it exits, in seconds, besides settings: the gRPC
# servers' 10 s for calls in flight, mds-api's 5 s Kafka flush (services/*/main.cc).
FIXED_DRAIN = {"mds-api": 15, "mds-consumer": 10}

problems = []


def fail(message):
    problems.append(message)


def seconds(text):
    """'1m30s', '45s', '15s', '500ms' -> seconds."""
    total, rest = 0.0, str(text)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    for number, unit in re.findall(r"([0-9.]+)(ms|us|h|m|s)", rest):
        total += float(number) * units[unit]
    if not re.fullmatch(r"([0-9.]+(ms|us|h|m|s))+", rest):
        raise ValueError(f"not a duration: {text!r}")
    return total


def config_readers(config_doc):
    """{setting: services that read it} from the sections of docs/configuration.md."""
    readers, section = {}, None
    for line in open(config_doc, encoding="utf-8"):
        if line.startswith("## "):
            section = line[3:].strip()
            if section not in CONFIG_SECTIONS:
                fail(f"{config_doc}: a section {section!r} this check does not know")
            continue
        if line.startswith("#"):
            section = None
            continue
        m = re.match(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line)
        if m:
            if section not in CONFIG_SECTIONS:
                fail(f"{config_doc}: {m.group(1)} is in no section naming its services")
                continue
            readers.setdefault(m.group(1), set()).update(CONFIG_SECTIONS[section])
            # A setting of the services' table that the gateway shares says so in its row.
            if re.search(r"gateway reads it", line, re.IGNORECASE):
                readers[m.group(1)].add("gateway")
    if not readers:
        fail(f"{config_doc}: no settings found")
    return readers


def env_example(path):
    """{name: value or None when commented out}."""
    values = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^(# )?([A-Z][A-Z0-9_]*)=(.*)$", line.rstrip("\n"))
        if m:
            values[m.group(2)] = None if m.group(1) else m.group(3)
    return values


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def active(config, profiles):
    """Services compose starts with these profiles (v1 lists every service in `config`)."""
    return {name for name, s in config["services"].items()
            if not s.get("profiles") or set(s["profiles"]) & profiles}


def published(service):
    ports = set()
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            if p.get("published") is not None:
                ports.add(int(p["published"]))
        else:
            parts = str(p).split(":")
            if len(parts) >= 2:
                ports.add(int(parts[-2]))
    return ports


def container_ports(service):
    ports = set()
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            ports.add(int(p["target"]))
        else:
            ports.add(int(str(p).split(":")[-1].split("/")[0]))
    return ports


def mounts(service):
    """[(source, target)] of bind mounts."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            if v.get("type") == "bind":
                out.append((v["source"], v["target"]))
        else:
            parts = v.split(":")
            if parts[0].startswith("/") or parts[0].startswith("."):
                out.append((parts[0], parts[1]))
    return out


def check_settings(default, all_settings, config_doc, example):
    readers = config_readers(config_doc)
    for name in sorted(example):
        if name.startswith("DEV_"):
            continue  # read by ./deploy/dev only (the dev stack's layout and ports)
        if name not in readers:
            fail(f".env.example sets {name}, which the tables of {config_doc} give to no service")
    for name in sorted(readers):
        if name not in example:
            fail(f"{config_doc} documents {name}, which .env.example lacks")
    for service in sorted(SERVICES):
        reads = {n for n, who in readers.items() if service in who}
        for label, config in (("without .env", default), ("with every setting in .env", all_settings)):
            env = environment(config["services"][service])
            for name in sorted(reads - set(env)):
                fail(f"{service} reads {name}, but docker-compose.yml does not pass it ({label})")
            for name in sorted((set(env) & set(readers)) - reads):
                fail(f"{service} is passed {name}, which it does not read ({label})")
        env_default = environment(default["services"][service])
        env_all = environment(all_settings["services"][service])
        for name in sorted(reads):
            if name not in env_default or name not in env_all:
                continue
            if name in FIXED:
                for label, env in (("without .env", env_default), ("with .env", env_all)):
                    if env[name] != FIXED[name]:
                        fail(f"{service}: {name} is {env[name]!r} {label}; inside the compose "
                             f"network it stays {FIXED[name]!r}")
                continue
            if env_all[name] != f"from-env-{name}":
                fail(f"{service}: {name} does not come from .env (got {env_all[name]!r})")
            want = example.get(name)
            got = env_default[name]
            if service in EMPTY_MEANS_DEFAULT:
                if got not in ("", want):
                    fail(f"{service}: without .env {name} is {got!r}; want empty (the binary's "
                         f"default) or .env.example's {want!r}")
            elif got != (want or ""):
                fail(f"{service}: without .env {name} is {got!r}; the gateway reads it "
                     f"literally, so it must be .env.example's {want or ''!r}")


def check_profiles(default, observability, replicated):
    for name, service in default["services"].items():
        profiles = set(service.get("profiles") or [])
        if name in PROFILES and profiles != {PROFILES[name]}:
            fail(f"{name} belongs to the {PROFILES[name]} profile alone, has {sorted(profiles)}")
        if name not in PROFILES and profiles:
            fail(f"{name} must start without a profile, has {sorted(profiles)}")
    base = active(default, set())
    if not SERVICES <= base:
        fail(f"without a profile {sorted(SERVICES - base)} would not start")
    for profile, config, members in (("observability", observability, OBSERVABILITY),
                                     ("replicated", replicated, REPLICATED)):
        with_profile = active(config, {profile})
        if members & base:
            fail(f"without a profile these would start: {sorted(members & base)}")
        if not members <= with_profile:
            fail(f"the {profile} profile lacks {sorted(members - with_profile)}")
        if with_profile - base != members:
            fail(f"the {profile} profile adds {sorted(with_profile - base)}")


def check_replicated(config, project):
    """The replicated profile: two more brokers of kafka's cluster that keep every topic in three
    replicas, writes needing two; a standby of postgres; scripts that exist; the services'
    DATABASE_URL naming both PostgreSQL services."""
    services = config["services"]
    kafka = environment(services["kafka"])
    ids = {kafka.get("KAFKA_NODE_ID")}
    want = {
        "CLUSTER_ID": kafka.get("CLUSTER_ID"),
        "KAFKA_CONTROLLER_QUORUM_VOTERS": kafka.get("KAFKA_CONTROLLER_QUORUM_VOTERS"),
        "KAFKA_PROCESS_ROLES": "broker",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": "3",
        "KAFKA_MIN_INSYNC_REPLICAS": "2",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "3",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "3",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "2",
    }
    for name in ("kafka-2", "kafka-3"):
        env = environment(services[name])
        for key, value in want.items():
            if env.get(key) != value:
                fail(f"{name}: {key} is {env.get(key)!r}, want {value!r}")
        if env.get("KAFKA_NODE_ID") in ids:
            fail(f"{name}: KAFKA_NODE_ID {env.get('KAFKA_NODE_ID')} is taken")
        ids.add(env.get("KAFKA_NODE_ID"))
        advertised = env.get("KAFKA_ADVERTISED_LISTENERS", "")
        if f"PLAINTEXT://{name}:9092" not in advertised:
            fail(f"{name} advertises {advertised!r}, not PLAINTEXT://{name}:9092")
        host = re.search(r"HOST://localhost:(\d+)", advertised)
        if not host or int(host.group(1)) not in published(services[name]):
            fail(f"{name}: its HOST listener {advertised!r} is not the port it publishes")
    standby = services["postgres-standby"]
    if "postgres" not in (standby.get("depends_on") or {}):
        fail("postgres-standby must depend on postgres")
    if environment(standby).get("PRIMARY_HOST") != "postgres":
        fail("postgres-standby must follow postgres (PRIMARY_HOST)")
    for service in ("postgres-standby", "kafka-init"):
        for source, _ in mounts(services[service]):
            if not os.path.exists(os.path.join(project, source)):
                fail(f"{service} mounts {source}, which does not exist")
    for name in ("mds-api", "mds-consumer"):
        url = environment(services[name]).get("DATABASE_URL", "")
        if "postgres:5432" not in url or "postgres-standby:5432" not in url or \
                "target_session_attrs=read-write" not in url:
            fail(f"{name}: DATABASE_URL {url!r} must name postgres and postgres-standby, "
                 "read-write sessions only")


def check_ports(config, deployment_doc):
    text = open(deployment_doc, encoding="utf-8").read()
    for name, want in HOST_PORTS.items():
        got = published(config["services"].get(name, {}))
        if got != want:
            fail(f"{name} publishes host ports {sorted(got)}, want {sorted(want)}")
        for port in want:
            if not re.search(rf"(?<![0-9]){port}(?![0-9])", text):
                fail(f"{deployment_doc} does not name host port {port} ({name})")
    for name, service in config["services"].items():
        if name not in HOST_PORTS and published(service):
            fail(f"{name} publishes {sorted(published(service))}: name it in {deployment_doc} and here")


def check_grace(config, example):
    drains = dict(FIXED_DRAIN)
    drains["gateway"] = seconds(example.get("GATEWAY_SHUTDOWN_TIMEOUT") or "15s")
    for name, drain in drains.items():
        grace = config["services"][name].get("stop_grace_period")
        if grace is None:
            fail(f"{name} has no stop_grace_period: Docker would SIGKILL it after 10 s")
        elif seconds(grace) <= drain:
            fail(f"{name}: stop_grace_period {grace} is not longer than its {drain:g} s drain")


def check_observability(config, project):
    services = config["services"]
    prom = services["prometheus"]
    prom_dir = dict((t, s) for s, t in mounts(prom)).get("/etc/prometheus")
    if not prom_dir or os.path.realpath(prom_dir) != os.path.realpath(
            os.path.join(project, "deploy/prometheus")):
        fail(f"prometheus must mount deploy/prometheus at /etc/prometheus, mounts {mounts(prom)}")
        return
    if "--config.file=/etc/prometheus/prometheus.yml" not in (prom.get("command") or []):
        fail("prometheus must run with --config.file=/etc/prometheus/prometheus.yml")
    prom_config = yaml.safe_load(open(os.path.join(prom_dir, "prometheus.yml"), encoding="utf-8"))
    for rule_file in prom_config.get("rule_files", []):
        if not os.path.exists(os.path.join(prom_dir, rule_file)):
            fail(f"prometheus.yml names rule file {rule_file}, not in deploy/prometheus")
    jobs = set()
    for job in prom_config.get("scrape_configs", []):
        jobs.add(job["job_name"])
        for static in job.get("static_configs", []):
            for target in static.get("targets", []):
                host, _, port = target.rpartition(":")
                if host not in services:
                    fail(f"prometheus.yml scrapes {target}: {host} is no compose service")
                elif int(port) not in container_ports(services[host]):
                    fail(f"prometheus.yml scrapes {target}: {host} does not serve port {port}")
    if not SERVICES <= jobs:
        fail(f"prometheus.yml does not scrape {sorted(SERVICES - jobs)}")

    grafana = services["grafana"]
    targets = dict((t, s) for s, t in mounts(grafana))
    provisioning = targets.get("/etc/grafana/provisioning")
    if not provisioning or not os.path.isdir(provisioning):
        fail(f"grafana must mount deploy/grafana/provisioning at /etc/grafana/provisioning")
        return
    for path in sorted(os.listdir(os.path.join(provisioning, "dashboards"))):
        doc = yaml.safe_load(open(os.path.join(provisioning, "dashboards", path), encoding="utf-8"))
        for provider in doc.get("providers", []):
            where = provider.get("options", {}).get("path")
            source = targets.get(where)
            if not source or not [f for f in os.listdir(source) if f.endswith(".json")]:
                fail(f"grafana's dashboard provider reads {where}, where no dashboards are mounted")
    for path in sorted(os.listdir(os.path.join(provisioning, "datasources"))):
        doc = yaml.safe_load(open(os.path.join(provisioning, "datasources", path), encoding="utf-8"))
        for source in doc.get("datasources", []):
            m = re.match(r"^https?://([^:/]+):(\d+)", source.get("url", ""))
            if not m or m.group(1) not in services or int(m.group(2)) not in container_ports(services[m.group(1)]):
                fail(f"grafana data source {source.get('name')} points at {source.get('url')}, "
                     "no compose service's port")
    home = environment(grafana).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        directory, file = os.path.split(home)
        if directory not in targets or not os.path.exists(os.path.join(targets[directory], file)):
            fail(f"grafana's home dashboard {home} is not mounted")

    ui = environment(services["kafka-ui"])
    if ui.get("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS") != "kafka:9092":
        fail("kafka-ui must reach the broker at kafka:9092")


def patterns(path):
    return {line.strip() for line in open(path, encoding="utf-8")
            if line.strip() and not line.startswith("#")}


def check_dockerignore(root, per_dockerfile):
    want = patterns(root)
    for needed in (".git", ".local", "bazel-*", ".env"):
        if needed not in want:
            fail(f"{root} does not leave out {needed}")
    for path in per_dockerfile:
        got = patterns(path)
        if got != want:
            fail(f"{path} differs from the root .dockerignore (Compose v1 and the classic "
                 f"builder read the root one, BuildKit this one): only here "
                 f"{sorted(got - want)}, only there {sorted(want - got)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--default", required=True)
    parser.add_argument("--observability", required=True)
    parser.add_argument("--replicated", required=True)
    parser.add_argument("--all-settings", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("env_example")
    parser.add_argument("config_doc")
    parser.add_argument("deployment_doc")
    parser.add_argument("dockerignore")
    parser.add_argument("per_dockerfile", nargs="*")
    args = parser.parse_args()

    load = lambda p: yaml.safe_load(open(p, encoding="utf-8"))
    default, observability, all_settings = load(args.default), load(args.observability), load(args.all_settings)
    replicated = load(args.replicated)
    example = env_example(args.env_example)

    check_settings(default, all_settings, args.config_doc, example)
    check_profiles(default, observability, replicated)
    check_replicated(replicated, args.project)
    check_ports(observability, args.deployment_doc)
    check_grace(default, example)
    check_observability(observability, args.project)
    check_dockerignore(args.dockerignore, args.per_dockerfile)

    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    print(f"{len(example)} settings of .env.example checked against "
          f"{len(default['services'])} compose services")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
