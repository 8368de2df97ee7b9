#!/usr/bin/python3
"""Checks the Kubernetes manifests in deploy/kubernetes/ without a cluster.

There is no API server on the test machines (`kubectl --dry-run=client` needs
one), so this parses the YAML and checks the structure each deployment form
depends on: kinds and apiVersions, the wiring between objects (selectors,
ConfigMap and Secret names, volume mounts, ports), probes, security contexts,
capabilities, and that every `--flag` given to archeio exists in
`archeio --help` (and every flag given to the ranges refresher in its usage).

Usage: check_k8s_manifests.py DEPLOY_DIR ARCHEIO_HELP_FILE FETCH_USAGE_FILE OUT_DIR

Writes each ConfigMap's mirror rules and operator ranges to
OUT_DIR/<form>.<key> so the caller can load them with the real archeio.
Prints one line per failed check and a closing 'N passed, N failed' line;
exit status 1 when any check failed.
"""
import os
import re
import sys

import yaml

API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "DaemonSet": "apps/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
}
# Google Cloud's load balancer proxies and health checkers.
GCP_LB_RANGES = {"35.191.0.0/16", "130.211.0.0/22"}
METRICS_PORT = 9090
ARCHEIO_IMAGE_UID = 65532


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def expect(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")
        return ok


def load_form(directory):
    """All documents of every *.yaml in one form's folder, keyed by (kind, name)."""
    objects = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".yaml") or name == "kustomization.yaml":
            continue
        with open(os.path.join(directory, name)) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    objects[(doc.get("kind"), doc["metadata"]["name"])] = doc
    return objects


def flags_in_help(text):
    return set(re.findall(r"^\s+(--[a-z0-9-]+)", text, re.M))


def flags_in(tokens):
    return [t.split("=", 1)[0] for t in tokens if t.startswith("--")]


def flag_values(args, flag):
    """Values of a flag given as '--flag VALUE' or '--flag=VALUE'."""
    values = []
    for i, token in enumerate(args):
        if token == flag and i + 1 < len(args):
            values.append(args[i + 1])
        elif token.startswith(flag + "="):
            values.append(token.split("=", 1)[1])
    return values


def container(pod, name, init=False):
    key = "initContainers" if init else "containers"
    for c in pod.get(key, []):
        if c["name"] == name:
            return c
    return None


def port_number(c, port):
    """A probe's port, by number or by the container port's name."""
    if isinstance(port, int):
        return port
    for p in c.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def mount_for(c, path):
    """The volumeMount of container c whose mountPath contains path."""
    best = None
    for m in c.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"]):
                best = m
    return best


def volume(pod, name):
    for v in pod.get("volumes", []):
        if v["name"] == name:
            return v
    return None


def check_api_versions(ck, form, objects, namespace, pod_security):
    """Known kinds and apiVersions; every object in the form's own namespace."""
    for (kind, name), doc in objects.items():
        ck.expect(kind in API_VERSIONS, f"{form}: unexpected kind {kind} ({name})")
        ck.expect(doc.get("apiVersion") == API_VERSIONS.get(kind),
                  f"{form}: {kind} {name} apiVersion {doc.get('apiVersion')}, want {API_VERSIONS.get(kind)}")
        if kind != "Namespace":
            ck.expect(doc["metadata"].get("namespace") == namespace,
                      f"{form}: {kind} {name} is not in namespace {namespace}")
    ns = objects.get(("Namespace", namespace))
    if ck.expect(ns is not None, f"{form}: no Namespace {namespace}"):
        level = ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce")
        ck.expect(level == pod_security, f"{form}: Pod Security Standard {level}, want {pod_security}")


def check_flags(ck, form, c, known, what):
    tokens = c.get("args", []) + c.get("command", [])
    for flag in flags_in(tokens):
        ck.expect(flag in known, f"{form}: {what} flag {flag} is not in its help")


def check_probes(ck, form, c):
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = c.get(probe, {}).get("httpGet", {})
        ck.expect(get.get("path") == path, f"{form}: {probe} path {get.get('path')}, want {path}")
        ck.expect(port_number(c, get.get("port")) == METRICS_PORT,
                  f"{form}: {probe} port {get.get('port')} is not the metrics port {METRICS_PORT}")
    ck.expect(flag_values(c.get("args", []), "--metrics-listen") == [f":{METRICS_PORT}"],
              f"{form}: archeio needs --metrics-listen :{METRICS_PORT}")


def check_config_files(ck, form, objects, pod, c, out_dir):
    """--mirrors and --ranges point into mounted volumes; ConfigMap keys are written out."""
    args = c.get("args", [])
    paths = [("--mirrors", p) for p in flag_values(args, "--mirrors")]
    paths += [("--ranges", p) for p in flag_values(args, "--ranges")]
    ck.expect(len(flag_values(args, "--mirrors")) == 1, f"{form}: archeio needs one --mirrors")
    ck.expect(len(flag_values(args, "--ranges")) >= 1, f"{form}: archeio needs --ranges")
    shared_ranges = None
    for flag, path in paths:
        m = mount_for(c, path)
        if not ck.expect(m is not None, f"{form}: {flag} {path} is in no volumeMount"):
            continue
        v = volume(pod, m["name"])
        if not ck.expect(v is not None, f"{form}: volume {m['name']} is not defined"):
            continue
        if "configMap" in v:
            cm = objects.get(("ConfigMap", v["configMap"]["name"]))
            key = path[len(m["mountPath"].rstrip("/")) + 1:]
            if ck.expect(cm is not None and key in cm.get("data", {}),
                         f"{form}: {flag} {path}: ConfigMap {v['configMap']['name']} has no key {key}"):
                with open(os.path.join(out_dir, f"{form}.{key}"), "w") as f:
                    f.write(cm["data"][key])
        elif "emptyDir" in v:
            shared_ranges = (path, m["name"])
        ck.expect(m.get("readOnly") is True, f"{form}: archeio mounts {m['name']} writable")
    ck.expect(shared_ranges is not None, f"{form}: no --ranges directory on a shared emptyDir")
    return shared_ranges


def check_refresher(ck, form, pod, shared, fetch_flags, uid):
    """An init container fills the ranges before archeio starts; a sidecar refreshes and signals."""
    ck.expect(pod.get("shareProcessNamespace") is True,
              f"{form}: the refresher must see archeio's process (shareProcessNamespace)")
    if shared is None:
        return
    path, vol = shared
    for name, init in (("fetch-ranges", True), ("refresh-ranges", False)):
        c = container(pod, name, init)
        if not ck.expect(c is not None, f"{form}: no {'init ' if init else ''}container {name}"):
            continue
        script = " ".join(c.get("command", []) + c.get("args", []))
        ck.expect("archeio-fetch-ranges" in script, f"{form}: {name} does not run archeio-fetch-ranges")
        ck.expect(path in script, f"{form}: {name} does not write {path}")
        m = mount_for(c, path)
        ck.expect(m is not None and m["name"] == vol and not m.get("readOnly"),
                  f"{form}: {name} does not mount {vol} writable at {path}")
        ck.expect(mount_for(c, "/tmp") is not None, f"{form}: {name} has no writable /tmp")
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", script):
            ck.expect(flag in fetch_flags, f"{form}: {name}: archeio-fetch-ranges has no flag {flag}")
        sc = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
        ck.expect(sc.get("runAsUser") == uid, f"{form}: {name} runs as {sc.get('runAsUser')}, archeio as {uid}")
        ck.expect(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{form}: {name} keeps capabilities")
        ck.expect(not sc.get("capabilities", {}).get("add"), f"{form}: {name} adds capabilities")
        ck.expect(sc.get("allowPrivilegeEscalation") is False, f"{form}: {name} allowPrivilegeEscalation")
        ck.expect(sc.get("readOnlyRootFilesystem") is True, f"{form}: {name} root file system is writable")
    sidecar = container(pod, "refresh-ranges") or {}
    script = " ".join(sidecar.get("command", []) + sidecar.get("args", []))
    ck.expect(re.search(r"--pid(-file)?\s", script) is not None,
              f"{form}: the sidecar does not signal archeio (--pid or --pid-file)")


def check_loadbalancer(ck, objects, known, fetch_flags, out_dir):
    form = "loadbalancer"
    check_api_versions(ck, form, objects, "archeio", "restricted")
    kinds = {k for k, _ in objects}
    for kind in ("Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"):
        ck.expect(kind in kinds, f"{form}: no {kind}")
    dep = objects.get(("Deployment", "archeio"))
    if not ck.expect(dep is not None, f"{form}: no Deployment archeio"):
        return
    pod = dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    sel = dep["spec"]["selector"]["matchLabels"]
    ck.expect(sel.items() <= labels.items(), f"{form}: Deployment selector {sel} does not match {labels}")
    c = container(pod, "archeio")
    if not ck.expect(c is not None, f"{form}: no container archeio"):
        return
    ck.expect("command" not in c, f"{form}: archeio must run the image's entrypoint (archeio serve)")
    args = c.get("args", [])
    check_flags(ck, form, c, known, "archeio")
    ck.expect("--xdp-iface" not in flags_in(args), f"{form}: userspace mode must not attach XDP")
    ck.expect(set(flag_values(args, "--trusted-proxy")) >= GCP_LB_RANGES,
              f"{form}: --trusted-proxy must list the load balancer ranges {sorted(GCP_LB_RANGES)}")
    ck.expect(flag_values(args, "--xff-hops") == ["2"], f"{form}: a Google Cloud LB needs --xff-hops 2")
    ck.expect(len(flag_values(args, "--workers")) == 1, f"{form}: --workers must match the pod's CPUs")
    check_probes(ck, form, c)
    sc = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
    ck.expect(sc.get("runAsNonRoot") is True, f"{form}: runAsNonRoot")
    ck.expect(sc.get("runAsUser") == ARCHEIO_IMAGE_UID, f"{form}: runAsUser {sc.get('runAsUser')}")
    ck.expect(sc.get("allowPrivilegeEscalation") is False, f"{form}: allowPrivilegeEscalation")
    ck.expect(sc.get("readOnlyRootFilesystem") is True, f"{form}: readOnlyRootFilesystem")
    ck.expect(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{form}: capabilities not dropped")
    ck.expect(not sc.get("capabilities", {}).get("add"), f"{form}: userspace mode needs no capability")
    ck.expect(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{form}: seccomp RuntimeDefault")
    ck.expect("cpu" in c.get("resources", {}).get("requests", {}), f"{form}: no CPU request (the HPA scales on it)")
    shared = check_config_files(ck, form, objects, pod, c, out_dir)
    check_refresher(ck, form, pod, shared, fetch_flags, ARCHEIO_IMAGE_UID)
    check_tls(ck, form, objects, pod, c)

    svc = objects.get(("Service", "archeio"))
    if ck.expect(svc is not None, f"{form}: no Service archeio"):
        spec = svc["spec"]
        ck.expect(spec.get("type") == "LoadBalancer", f"{form}: Service type {spec.get('type')}")
        ck.expect(spec.get("externalTrafficPolicy") == "Local",
                  f"{form}: externalTrafficPolicy Local keeps the client's address as the peer")
        ck.expect(spec.get("selector", {}).items() <= labels.items(), f"{form}: Service selects no archeio pod")
        names = {p.get("name") for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
        for p in spec.get("ports", []):
            ck.expect(p.get("targetPort") in names, f"{form}: Service targetPort {p.get('targetPort')} is no container port")
            ck.expect(port_number(c, p.get("targetPort")) != METRICS_PORT, f"{form}: the metrics port is exposed")
    hpa = objects.get(("HorizontalPodAutoscaler", "archeio"))
    if ck.expect(hpa is not None, f"{form}: no HorizontalPodAutoscaler archeio"):
        ref = hpa["spec"]["scaleTargetRef"]
        ck.expect((ref.get("apiVersion"), ref.get("kind"), ref.get("name")) == ("apps/v1", "Deployment", "archeio"),
                  f"{form}: HPA scales {ref}")
        ck.expect(hpa["spec"].get("minReplicas", 1) >= 2, f"{form}: HPA minReplicas < 2")
        ck.expect(hpa["spec"]["maxReplicas"] >= hpa["spec"].get("minReplicas", 1), f"{form}: HPA max < min")
        ck.expect(any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"].get("metrics", [])),
                  f"{form}: HPA does not scale on CPU")
        ck.expect("replicas" not in dep["spec"], f"{form}: Deployment replicas fights the HPA")


def check_tls(ck, form, objects, pod, c):
    args = c.get("args", [])
    for flag in ("--tls-cert", "--tls-key"):
        values = flag_values(args, flag)
        if not ck.expect(len(values) == 1, f"{form}: one {flag}"):
            continue
        m = mount_for(c, values[0])
        v = volume(pod, m["name"]) if m else None
        ck.expect(v is not None and "secret" in v, f"{form}: {flag} is not read from a Secret volume")


def check_xdp(ck, objects, known, fetch_flags, out_dir):
    form = "xdp"
    check_api_versions(ck, form, objects, "archeio-xdp", "privileged")
    ds = objects.get(("DaemonSet", "archeio-xdp"))
    if not ck.expect(ds is not None, f"{form}: no DaemonSet archeio-xdp"):
        return
    ck.expect(("ConfigMap", "archeio-xdp") in objects, f"{form}: no ConfigMap archeio-xdp")
    pod = ds["spec"]["template"]["spec"]
    labels = ds["spec"]["template"]["metadata"]["labels"]
    ck.expect(ds["spec"]["selector"]["matchLabels"].items() <= labels.items(), f"{form}: selector")
    ck.expect(pod.get("hostNetwork") is True, f"{form}: hostNetwork")
    ck.expect(pod.get("dnsPolicy") == "ClusterFirstWithHostNet", f"{form}: dnsPolicy with hostNetwork")
    ck.expect(bool(pod.get("nodeSelector")), f"{form}: no nodeSelector for the hosts with XDP NICs")
    c = container(pod, "archeio")
    if not ck.expect(c is not None, f"{form}: no container archeio"):
        return
    args = c.get("args", [])
    ck.expect("command" not in c, f"{form}: archeio must run the image's entrypoint (archeio serve)")
    check_flags(ck, form, c, known, "archeio")
    ck.expect(len(flag_values(args, "--xdp-iface")) == 1, f"{form}: --xdp-iface")
    ck.expect(not flag_values(args, "--trusted-proxy"), f"{form}: directly on the internet, no trusted proxy")
    check_probes(ck, form, c)
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    ck.expect(caps.get("drop") == ["ALL"], f"{form}: capabilities not dropped first")
    added = set(caps.get("add", []))
    ck.expect({"BPF", "PERFMON", "NET_ADMIN", "NET_BIND_SERVICE"} <= added,
              f"{form}: capabilities {sorted(added)} lack BPF, PERFMON, NET_ADMIN or NET_BIND_SERVICE")
    ck.expect(added <= {"BPF", "PERFMON", "NET_ADMIN", "NET_BIND_SERVICE", "SYS_ADMIN", "SYS_RESOURCE"},
              f"{form}: capabilities {sorted(added)} beyond what XDP needs")
    ck.expect(sc.get("privileged") is not True, f"{form}: privileged")
    seccomp = {**pod.get("securityContext", {}), **sc}.get("seccompProfile", {}).get("type")
    ck.expect(seccomp == "Unconfined" or "SYS_ADMIN" in added,
              f"{form}: RuntimeDefault seccomp refuses bpf() without SYS_ADMIN")
    ck.expect(pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault",
              f"{form}: the other containers keep RuntimeDefault seccomp")
    ck.expect(sc.get("runAsUser") == 0, f"{form}: Kubernetes gives added capabilities to uid 0 only")
    ck.expect(sc.get("readOnlyRootFilesystem") is True, f"{form}: readOnlyRootFilesystem")
    bpffs = (flag_values(args, "--bpffs") or ["/sys/fs/bpf/archeio"])[0]
    m = mount_for(c, bpffs)
    v = volume(pod, m["name"]) if m else None
    ck.expect(v is not None and v.get("hostPath", {}).get("path") == "/sys/fs/bpf"
              and m["mountPath"] == "/sys/fs/bpf" and not m.get("readOnly"),
              f"{form}: the host's bpffs is not mounted writable at /sys/fs/bpf (pins under {bpffs})")
    if v is not None and "hostPath" in v:
        ck.expect(v["hostPath"].get("type") == "Directory", f"{form}: bpffs hostPath must exist (type Directory)")
    ports = {p["containerPort"]: p for p in c.get("ports", [])}
    ck.expect(all(p.get("hostPort") in (None, n) for n, p in ports.items()), f"{form}: hostPort differs")
    shared = check_config_files(ck, form, objects, pod, c, out_dir)
    check_refresher(ck, form, pod, shared, fetch_flags, 0)
    check_tls(ck, form, objects, pod, c)


def main():
    deploy, help_file, usage_file, out_dir = sys.argv[1:5]
    known = flags_in_help(open(help_file).read())
    fetch_flags = set(re.findall(r"--[a-z][a-z0-9-]*", open(usage_file).read()))
    ck = Checks()
    ck.expect(len(known) > 20, f"no flags read from {help_file}")
    ck.expect(fetch_flags >= {"--pid", "--pid-file"}, f"no flags read from {usage_file}")
    lb_dir = os.path.join(deploy, "loadbalancer")
    xdp_dir = os.path.join(deploy, "xdp")
    for d in (lb_dir, xdp_dir):
        if not ck.expect(os.path.isdir(d), f"no folder {d}"):
            print(f"manifests: {ck.passed} passed, {ck.failed} failed")
            return 1
    check_loadbalancer(ck, load_form(lb_dir), known, fetch_flags, out_dir)
    check_xdp(ck, load_form(xdp_dir), known, fetch_flags, out_dir)
    for d in (lb_dir, xdp_dir):
        check_kustomization(ck, d)
    print(f"manifests: {ck.passed} passed, {ck.failed} failed")
    return 1 if ck.failed else 0


def check_kustomization(ck, directory):
    """kubectl apply -k: the kustomization lists exactly the folder's manifests."""
    path = os.path.join(directory, "kustomization.yaml")
    if not ck.expect(os.path.exists(path), f"no {path}"):
        return
    k = yaml.safe_load(open(path))
    files = sorted(f for f in os.listdir(directory) if f.endswith(".yaml") and f != "kustomization.yaml")
    ck.expect(sorted(k.get("resources", [])) == files, f"{path}: resources {k.get('resources')} != {files}")


if __name__ == "__main__":
    sys.exit(main())
