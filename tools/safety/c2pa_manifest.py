"""Sign an exported MP4 with a C2PA manifest declaring AI generation, and read one back.

The manifest says: this video was created by a trained algorithm (IPTC digital source type
`trainedAlgorithmicMedia`), with these further actions (edited, captions burned in, ...), by
Reel Director with these model ids, for this project / cut / storyboard version
(`org.reeldirector.storyboard`).

Signing identity: unless the operator configures their own certificate and key (settings),
a local chain root -> intermediate -> leaf (ES256) is created on first use in `keys_dir`
(normally `<DIRECTOR_HOME>/keys/`). Such a signature is cryptographically valid but no public
trust list knows the local root, so `read_manifest` reports it honestly as
"self-signed (local identity)" (it checks the chain against the local root given as a user
trust anchor) instead of calling it invalid or trusted.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
STORYBOARD_ASSERTION = "org.reeldirector.storyboard"
GENERATOR_NAME = "Reel Director"

ROOT_CERT, ROOT_KEY = "root_ca.pem", "root_ca.key"
INTER_CERT, INTER_KEY = "intermediate_ca.pem", "intermediate_ca.key"
LEAF_CERT, LEAF_KEY = "signer.pem", "signer.key"
CHAIN = "signer_chain.pem"       # leaf + intermediate: what the signer gets (never the root)


class ProvenanceError(RuntimeError):
    """Signing or reading failed in a way the operator can act on."""


@dataclass
class ManifestReading:
    present: bool
    valid: bool = False
    ai_generated: bool = False
    issuer: str | None = None
    trust: str = "none"                 # trusted | self-signed (local identity) | untrusted (unknown issuer) | invalid | none
    validation_state: str | None = None  # c2pa's own: Valid | Trusted | Invalid
    title: str | None = None
    generator: str | None = None
    actions: list[str] = field(default_factory=list)
    assertions: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)   # failure codes with explanations
    storyboard: dict[str, Any] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- identity


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("reel-director")
    except Exception:
        return "0.0.0"


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def ensure_local_identity(keys_dir: str | Path, common_name: str = "Reel Director local signer") -> dict[str, Path]:
    """Create (once) the local root -> intermediate -> leaf ES256 chain in `keys_dir`; return the file paths.

    The leaf follows what C2PA validators demand of a signing certificate: CA:FALSE, key usage
    digitalSignature + nonRepudiation, extended key usage emailProtection."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    keys_dir = Path(keys_dir)
    paths = {name: keys_dir / f for name, f in (("root", ROOT_CERT), ("chain", CHAIN), ("key", LEAF_KEY),
                                                 ("leaf", LEAF_CERT), ("intermediate", INTER_CERT))}
    if all(p.exists() for p in paths.values()):
        return paths
    keys_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Reel Director (local)")])

    def cert(subject, issuer, pub, signing_key, *, ca: bool, days: int, issuer_cert=None, path_len=None):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
             .serial_number(x509.random_serial_number()).not_valid_before(now)
             .not_valid_after(now + dt.timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
        if issuer_cert is not None:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False)
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                              data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                              crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                              data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                              crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        return b.sign(signing_key, hashes.SHA256())

    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = cert(name("Reel Director local root CA"), name("Reel Director local root CA"), root_key.public_key(),
                root_key, ca=True, days=3650, path_len=1)
    inter = cert(name("Reel Director local intermediate CA"), root.subject, inter_key.public_key(), root_key,
                 ca=True, days=3650, issuer_cert=root, path_len=0)
    leaf = cert(name(common_name), inter.subject, leaf_key.public_key(), inter_key, ca=False, days=1825,
                issuer_cert=inter)

    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    key_pem = lambda k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # noqa: E731
                                        serialization.NoEncryption())
    _write_private(keys_dir / ROOT_KEY, key_pem(root_key))
    _write_private(keys_dir / INTER_KEY, key_pem(inter_key))
    _write_private(keys_dir / LEAF_KEY, key_pem(leaf_key))
    _write_public(keys_dir / ROOT_CERT, pem(root))
    _write_public(keys_dir / INTER_CERT, pem(inter))
    _write_public(keys_dir / LEAF_CERT, pem(leaf))
    _write_public(keys_dir / CHAIN, pem(leaf) + pem(inter))
    return paths


def _signer(keys_dir: str | Path | None, cert_path: str | Path | None, key_path: str | Path | None):
    import c2pa

    if cert_path or key_path:
        if not (cert_path and key_path):
            raise ProvenanceError("set both the certificate chain and the private key paths (DIRECTOR_SAFETY_C2PA_CERT "
                                  "and DIRECTOR_SAFETY_C2PA_KEY), or neither to use the local identity")
        chain, key = Path(cert_path), Path(key_path)
    elif keys_dir is not None:
        paths = ensure_local_identity(keys_dir)
        chain, key = paths["chain"], paths["key"]
    else:
        raise ProvenanceError("no signing identity: pass keys_dir (e.g. <DIRECTOR_HOME>/keys) or a certificate and key")
    for p in (chain, key):
        if not p.exists():
            raise ProvenanceError(f"signing file {p} does not exist; fix the path in the operator settings")
    info = c2pa.C2paSignerInfo(alg=c2pa.C2paSigningAlg.ES256, sign_cert=chain.read_bytes(),
                               private_key=key.read_bytes(), ta_url=None)
    return c2pa.Signer.from_info(info)


# ----------------------------------------------------------------------------- sign


def build_manifest(*, title: str, project_id: str, cut_id: str, version: int | str, models: list[str],
                   actions: Sequence[Any] = ()) -> dict:
    """The manifest definition: AI creation, the further actions, the generator and our storyboard assertion."""
    all_actions: list[dict] = [{
        "action": "c2pa.created",
        "digitalSourceType": AI_SOURCE_TYPE,
        "softwareAgent": {"name": GENERATOR_NAME, "version": _version()},
        "parameters": {"description": "generated from a storyboard by text/image-to-video models",
                       "models": list(models)},
    }]
    for a in actions:
        if isinstance(a, str):
            a = {"action": a if a.startswith("c2pa.") else f"c2pa.{a}"}
        a = dict(a)
        if a.get("action") == "c2pa.created":
            continue  # there is exactly one creation, ours
        a.setdefault("softwareAgent", {"name": GENERATOR_NAME, "version": _version()})
        all_actions.append(a)
    return {
        "claim_generator_info": [{"name": GENERATOR_NAME, "version": _version(),
                                  **({"models": ", ".join(models)} if models else {})}],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": all_actions}},
            {"label": STORYBOARD_ASSERTION, "data": {
                "project_id": str(project_id), "cut_id": str(cut_id), "storyboard_version": str(version),
                "models": list(models), "generator": GENERATOR_NAME, "generator_version": _version()}},
        ],
    }


def sign_video(src: str | Path, dst: str | Path, *, title: str, project_id: str, cut_id: str,
               version: int | str, models: list[str], actions: Sequence[Any] = (),
               keys_dir: str | Path | None = None, cert_path: str | Path | None = None,
               key_path: str | Path | None = None) -> Path:
    """Write `dst`: `src` (an MP4) with an embedded, signed C2PA manifest. Atomic; src may equal dst."""
    import c2pa

    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise ProvenanceError(f"cannot sign {src}: no such file")
    manifest = build_manifest(title=title, project_id=project_id, cut_id=cut_id, version=version,
                              models=models, actions=actions)
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.signing{dst.suffix or '.mp4'}")
    signer = _signer(keys_dir, cert_path, key_path)
    try:
        with signer, c2pa.Builder(manifest) as builder, open(src, "rb") as fin, open(tmp, "w+b") as fout:
            builder.sign(signer, "video/mp4", fin, fout)
        os.replace(tmp, dst)
    except c2pa.C2paError as err:
        raise ProvenanceError(f"C2PA signing of {src} failed: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)
    return dst


# ----------------------------------------------------------------------------- read


def _read(path: Path, anchors_pem: str | None):
    import c2pa

    settings: dict[str, dict[str, Any]] = {"verify": {"verify_trust": True}}
    if anchors_pem:
        settings["trust"] = {"user_anchors": anchors_pem}
    ctx = c2pa.Context(c2pa.Settings.from_dict(settings))
    with open(path, "rb") as fh:
        data = fh.read()
    reader = c2pa.Reader.try_create("video/mp4", io.BytesIO(data), None, ctx)
    if reader is None:
        return None, None
    with reader:
        return json.loads(reader.json()), reader.get_validation_state()


def _issuer(manifest: dict) -> str | None:
    sig = manifest.get("signature_info") or {}
    return sig.get("common_name") or sig.get("issuer")


EXPLAIN = {
    "assertion.bmffHash.mismatch": "the video data changed after signing",
    "assertion.dataHash.mismatch": "the file data changed after signing",
    "signingCredential.untrusted": "the signer is not on a trust list",
    "signingCredential.expired": "the signing certificate has expired",
    "claimSignature.mismatch": "the signature does not match the manifest",
}


def read_manifest(path: str | Path, *, keys_dir: str | Path | None = None,
                  trust_anchors: str | Path | None = None) -> ManifestReading:
    """Read and validate the C2PA manifest of `path` with c2pa's own Reader.

    `trust` distinguishes: 'trusted' (chain ends in a configured trust anchor), 'self-signed
    (local identity)' (chain ends in this installation's local root in keys_dir), 'untrusted
    (unknown issuer)' (valid signature, unknown chain), 'invalid' (content or signature fails)."""
    import c2pa

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no file at {path}")
    anchors = Path(trust_anchors).read_text() if trust_anchors else None
    local_root = None
    if keys_dir is not None and (Path(keys_dir) / ROOT_CERT).exists():
        local_root = (Path(keys_dir) / ROOT_CERT).read_text()
    try:
        store, state = _read(path, anchors)
    except c2pa.C2paError as err:
        return ManifestReading(present=True, valid=False, trust="invalid", validation_state="Invalid",
                               problems=[f"the manifest cannot be read: {err}"])
    if store is None:
        return ManifestReading(present=False)
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    statuses = store.get("validation_status") or []
    vr = store.get("validation_results") or {}
    failures = list((vr.get("activeManifest") or {}).get("failure") or []) or statuses
    codes = [s.get("code", "") for s in failures]
    problems = [f"{c}: {EXPLAIN.get(c, s.get('explanation', ''))}".rstrip(": ") for c, s in zip(codes, failures)]

    actions, ai, assertions = [], False, {}
    for a in active.get("assertions", []):
        label = a.get("label", "")
        assertions[label] = a.get("data")
        if label.startswith("c2pa.actions"):
            for act in (a.get("data") or {}).get("actions", []):
                actions.append(act.get("action"))
                if act.get("digitalSourceType", "").endswith("/trainedAlgorithmicMedia") or \
                        act.get("digitalSourceType", "").endswith("/compositeWithTrainedAlgorithmicMedia"):
                    ai = True

    valid = state in ("Valid", "Trusted")
    if not valid:
        trust = "invalid"
    elif state == "Trusted":
        trust = "trusted"
    elif local_root is not None and _read(path, local_root)[1] == "Trusted":
        trust = "self-signed (local identity)"
    else:
        trust = "untrusted (unknown issuer)"
    if valid:
        problems = [p for p in problems if not p.startswith("signingCredential.untrusted")]
    gen = (active.get("claim_generator_info") or [{}])[0]
    return ManifestReading(
        present=True, valid=valid, ai_generated=ai, issuer=_issuer(active), trust=trust, validation_state=state,
        title=active.get("title"), generator=" ".join(str(x) for x in (gen.get("name"), gen.get("version")) if x) or None,
        actions=actions, assertions=assertions, problems=problems, storyboard=assertions.get(STORYBOARD_ASSERTION))
