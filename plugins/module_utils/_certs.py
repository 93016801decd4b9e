# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Certificate logic shared by the vault_cert module, its action plugin and the cert_sans filter.

This is a private module_utils file of hardway.kubernetes: no stability
guarantees for other collections.

Everything here is pure: no file system, no network. The module reads the
files and calls these functions; the tests call them directly.
"""

from __future__ import annotations

import datetime
import ipaddress
import re

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - reported by the callers
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True


def vault_cert_argument_spec():
    """Host-side options of the vault_cert module (the Vault connection options come from _vault.py)."""
    return {
        'mount': {'type': 'str', 'required': True},
        'role': {'type': 'str'},
        'ca': {'type': 'bool', 'default': False},
        'ca_max_path_length': {'type': 'int', 'default': 0},
        'common_name': {'type': 'str', 'required': True},
        'organization': {'type': 'list', 'elements': 'str', 'default': []},
        'subject_alt_name': {'type': 'list', 'elements': 'str', 'default': []},
        'ttl': {'type': 'str'},
        'renew_before': {'type': 'str', 'default': '33%'},
        'force': {'type': 'bool', 'default': False},
        'key_path': {'type': 'path', 'required': True},
        'cert_path': {'type': 'path', 'required': True},
        'ca_path': {'type': 'path'},
        'key_type': {'type': 'str', 'default': 'ecdsa', 'choices': ['ecdsa', 'rsa']},
        'key_size': {'type': 'int', 'default': 2048},
        'rotate_key': {'type': 'bool', 'default': False},
        'owner': {'type': 'str'},
        'group': {'type': 'str'},
        'key_mode': {'type': 'str', 'default': '0600', 'no_log': False},
        'cert_mode': {'type': 'str', 'default': '0644'},
    }


# role is needed for leaf certificates only: a CA is signed by <mount>/root/sign-intermediate, which has no role.
VAULT_CERT_REQUIRED_IF = [('ca', False, ('role',))]


# Set only by the vault_cert action plugin when it runs the module on the host.
VAULT_CERT_INTERNAL_OPTIONS = {
    '_step': {'type': 'str', 'default': 'prepare', 'choices': ['prepare', 'install']},
    '_ca_pem': {'type': 'str'},
    '_certificate': {'type': 'str'},
}


class CertError(ValueError):
    """Bad input or unusable certificate material; the message says what and how to fix it."""


# --------------------------------------------------------------------------
# Durations ("72h", "1h30m", "3d", 3600)
# --------------------------------------------------------------------------

_DURATION_PART = re.compile(r'(\d+(?:\.\d+)?)(ms|s|m|h|d)')
_DURATION_UNITS = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}


def parse_duration(value, name='duration'):
    """Seconds (int) from an int, a digit string or a Vault/Go duration such as '72h' or '1h30m'."""
    if isinstance(value, bool):
        raise CertError(f"{name}: {value!r} is not a duration; use seconds or a string such as '72h' or '30m'")
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise CertError(f"{name}: {value!r} is not a duration; use seconds or a string such as '72h', '30m' or '1h30m'")
    return int(total)


def is_duration(value):
    """True when value parses as a duration string (not a plain word)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    try:
        parse_duration(value)
    except CertError:
        return False
    return True


def utc_moment(now=None):
    """An aware UTC datetime from None (the current time), a datetime (naive counts as UTC) or ISO 8601 text."""
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if isinstance(now, datetime.datetime):
        return now if now.tzinfo else now.replace(tzinfo=datetime.timezone.utc)
    return datetime.datetime.fromisoformat(str(now).replace('Z', '+00:00'))


def renew_threshold(renew_before, not_before, not_after):
    """The moment from which a certificate valid from not_before to not_after must be renewed.

    renew_before is a duration ('24h', 86400) or a share of the lifetime
    ('33%': renew when less than a third of the lifetime is left).
    """
    text = str(renew_before).strip()
    if text.endswith('%'):
        try:
            percent = float(text[:-1])
        except ValueError:
            raise CertError(f"renew_before: {renew_before!r} is not a percentage; use e.g. '33%' or a duration such as '24h'") from None
        if not 0 < percent < 100:
            raise CertError(f"renew_before: {renew_before!r} must be between 0% and 100% (exclusive), e.g. '33%'")
        return not_after - (not_after - not_before) * (percent / 100.0)
    seconds = parse_duration(renew_before, 'renew_before')
    return not_after - datetime.timedelta(seconds=seconds)


# --------------------------------------------------------------------------
# Subject alternative names
# --------------------------------------------------------------------------

_DNS_LABEL = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$')


def _is_dns_name(name):
    if not name or len(name) > 253:
        return False
    labels = name.rstrip('.').split('.')
    if labels and labels[0] == '*':
        labels = labels[1:]
    return bool(labels) and all(_DNS_LABEL.match(label) for label in labels)


def _ip(value):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def normalize_san(entry, name='subject_alt_name'):
    """('DNS', 'name') or ('IP', 'address') from 'DNS:x', 'IP:y', or a bare name/address."""
    text = str(entry).strip()
    kind, sep, value = text.partition(':')
    if sep and kind.upper() in ('DNS', 'IP', 'IP ADDRESS'):
        kind = 'IP' if kind.upper().startswith('IP') else 'DNS'
        value = value.strip()
    elif _ip(text) is not None:
        kind, value = 'IP', text
    else:
        kind, value = 'DNS', text
    if kind == 'IP':
        address = _ip(value)
        if address is None:
            raise CertError(f"{name}: {entry!r} is not an IP address; write IPv4/IPv6 addresses as 'IP:198.18.0.10'")
        return ('IP', str(address))
    if not _is_dns_name(value):
        raise CertError(f"{name}: {entry!r} is not a valid DNS name; use letters, digits, '-' and dots (e.g. 'DNS:etcd-1.example.internal')")
    return ('DNS', value.lower().rstrip('.'))


def split_sans(entries, name='subject_alt_name'):
    """Sorted, de-duplicated (dns_names, ip_addresses) from a list of SAN entries."""
    dns, ips = set(), set()
    for entry in entries or []:
        kind, value = normalize_san(entry, name)
        (dns if kind == 'DNS' else ips).add(value)
    return sorted(dns), sorted(ips, key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)))


def first_service_ip(service_cidr):
    """The first host address of the (primary) service CIDR: the ClusterIP of kubernetes.default."""
    if isinstance(service_cidr, (list, tuple)):
        primary = service_cidr[0] if service_cidr else ''
    else:
        primary = str(service_cidr or '').split(',', maxsplit=1)[0]
    primary = primary.strip()
    try:
        network = ipaddress.ip_network(primary, strict=True)
    except ValueError as exc:
        raise CertError(f"service_cidr: {service_cidr!r} is not a network in CIDR notation ({exc}); use e.g. '100.64.128.0/17'") from None
    if network.num_addresses < 4:
        raise CertError(f'service_cidr: {primary} is too small to hold a service IP; use a /28 or larger')
    return str(network.network_address + 1)


SAN_SOURCES = ('hostnames', 'host_ips', 'lb', 'service_ip', 'kubernetes', 'localhost', 'extra')


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def build_sans(sources, hostnames=None, host_ips=None, lb=None, service_cidr=None, cluster_domain='cluster.local', extra=None):
    """SAN entries ('DNS:...' then 'IP:...', in source order, without duplicates) for the given sources.

    Sources: hostnames, host_ips, lb, service_ip, kubernetes, localhost, extra.
    Empty values in hostnames/host_ips are skipped (facts that are not there);
    a source that is asked for but has nothing to give is an error.
    """
    if isinstance(sources, str):
        sources = [sources]
    entries = []

    def add(kind, value, param):
        entries.append(normalize_san(f'{kind}:{value}' if kind else value, param))

    for source in sources or []:
        if source not in SAN_SOURCES:
            raise CertError(f"cert_sans: unknown SAN source {source!r}; valid sources are {', '.join(SAN_SOURCES)}")
        if source == 'hostnames':
            names = [n for n in _as_list(hostnames) if n not in (None, '')]
            if not names:
                raise CertError("cert_sans: source 'hostnames' needs hostnames=[...], e.g. hostnames=[inventory_hostname]")
            for value in names:
                if _ip(value) is not None:
                    raise CertError(f"cert_sans: hostnames entry {value!r} is an IP address; pass it in host_ips instead")
                add('DNS', value, 'hostnames')
        elif source == 'host_ips':
            ips = [a for a in _as_list(host_ips) if a not in (None, '')]
            if not ips:
                raise CertError("cert_sans: source 'host_ips' needs host_ips=[...], e.g. host_ips=[ansible_facts['default_ipv4']['address']]")
            for value in ips:
                add('IP', value, 'host_ips')
        elif source == 'lb':
            values = [a for a in _as_list(lb) if a not in (None, '')]
            if not values:
                raise CertError("cert_sans: source 'lb' needs lb= the load balancer's address or DNS name (or a list of them)")
            for value in values:
                add(None, value, 'lb')
        elif source == 'service_ip':
            if not service_cidr:
                raise CertError("cert_sans: source 'service_ip' needs service_cidr=, e.g. service_cidr='100.64.128.0/17'")
            add('IP', first_service_ip(service_cidr), 'service_cidr')
        elif source == 'kubernetes':
            domain = str(cluster_domain or '').strip('.')
            if not _is_dns_name(domain):
                raise CertError(f"cert_sans: cluster_domain {cluster_domain!r} is not a DNS domain; use e.g. 'cluster.local'")
            for value in ('kubernetes', 'kubernetes.default', 'kubernetes.default.svc', f'kubernetes.default.svc.{domain}'):
                add('DNS', value, 'cluster_domain')
        elif source == 'localhost':
            add('DNS', 'localhost', 'localhost')
            add('IP', '127.0.0.1', 'localhost')
        elif source == 'extra':
            for value in _as_list(extra):
                add(None, value, 'extra')
    seen, result = set(), []
    for kind in ('DNS', 'IP'):
        for entry_kind, value in entries:
            if entry_kind == kind and (kind, value) not in seen:
                seen.add((kind, value))
                result.append(f'{kind}:{value}')
    return result


# --------------------------------------------------------------------------
# Keys and CSRs
# --------------------------------------------------------------------------

KEY_TYPES = ('ecdsa', 'rsa')


def generate_private_key(key_type='ecdsa', key_size=2048):
    """A new private key: ECDSA P-256 or RSA of key_size bits."""
    if key_type == 'ecdsa':
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == 'rsa':
        if key_size < 2048:
            raise CertError(f'key_size: {key_size} is too small for RSA; use 2048 or more')
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    raise CertError(f"key_type: {key_type!r} is not supported; use one of {', '.join(KEY_TYPES)}")


def private_key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_private_key(data, path='private key'):
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CertError(f'{path} is not an unencrypted PEM private key ({exc}); move it away to have a new key generated') from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise CertError(f'{path} holds a {type(key).__name__}; only ECDSA and RSA keys are supported')
    return key


def key_type_of(key):
    return 'ecdsa' if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) else 'rsa'


def key_matches_request(key, key_type, key_size):
    """True when an existing key is of the requested type (and RSA size)."""
    if key_type_of(key) != key_type:
        return False
    return key_type != 'rsa' or key.key_size == key_size


def public_key_bytes(key_or_cert):
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _name(common_name, organization):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organization or []]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def build_csr(key, common_name, organization=None, subject_alt_name=None):
    """PEM CSR (str) for key with the given subject and SANs."""
    if not common_name:
        raise CertError('common_name must not be empty')
    dns, ips = split_sans(subject_alt_name)
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name, organization))
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode('ascii')


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------

_PEM_CERTIFICATE = re.compile(rb'-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----', re.DOTALL)


def load_certificates(data, path='certificate'):
    """All certificates of a PEM bundle (bytes or str), first one first."""
    if isinstance(data, str):
        data = data.encode('ascii', 'replace')
    # Block by block: x509.load_pem_x509_certificates needs cryptography 39, Debian 12 has 38.
    blocks = _PEM_CERTIFICATE.findall(data)
    if not blocks:
        raise CertError(f'{path} is not a PEM certificate (no BEGIN CERTIFICATE block)')
    try:
        certs = [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError as exc:
        raise CertError(f'{path} is not a PEM certificate ({exc})') from None
    if not certs:
        raise CertError(f'{path} holds no PEM certificate')
    return certs


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def format_serial(serial):
    """Vault's serial notation: lower-case hex byte pairs joined by ':'."""
    text = format(serial, 'x')
    if len(text) % 2:
        text = '0' + text
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def _utc(cert, attr):
    value = getattr(cert, attr + '_utc', None)
    if value is None:  # pragma: no cover - cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def cert_info(cert):
    """The fields of a certificate that decide about re-issuing, as plain data."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = sorted(n.lower() for n in ext.get_values_for_type(x509.DNSName))
        ips = sorted((str(a) for a in ext.get_values_for_type(x509.IPAddress)),
                     key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)))
    except x509.ExtensionNotFound:
        dns, ips = [], []
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    is_ca, path_length = basic_constraints(cert)
    return {
        'common_name': cns[0].value if cns else '',
        'organization': sorted(a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)),
        'dns_names': dns,
        'ip_addresses': ips,
        'subject_alt_name': [f'DNS:{d}' for d in dns] + [f'IP:{a}' for a in ips],
        'serial': format_serial(cert.serial_number),
        'not_before': _utc(cert, 'not_valid_before').isoformat(),
        'not_after': _utc(cert, 'not_valid_after').isoformat(),
        'issuer': cert.issuer.rfc4514_string(),
        'subject': cert.subject.rfc4514_string(),
        'ca': is_ca,
        'path_length': path_length,
        'kind': kind_text(is_ca, path_length),
    }


def basic_constraints(cert):
    """(is_ca, path_length) of a certificate; path_length None means no limit (and is None for leaves)."""
    try:
        value = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False, None
    return bool(value.ca), (value.path_length if value.ca else None)


def _may_sign_certificates(cert):
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(usage.key_cert_sign)


def _path_length_text(path_length):
    return 'unlimited' if path_length is None else str(path_length)


def kind_text(is_ca, path_length=None):
    """'leaf', or 'CA, path length N' ('unlimited' for None), as diffs show it."""
    return f'CA, path length {_path_length_text(path_length)}' if is_ca else 'leaf'


def wanted_path_length(max_path_length):
    """The BasicConstraints path length a request means: Vault's max_path_length -1 is no limit (None)."""
    if max_path_length is None or int(max_path_length) < 0:
        return None
    return int(max_path_length)


def kind_mismatches(cert, ca=False, max_path_length=0):
    """Reasons (list of str) why a certificate is not of the requested kind; empty when it is.

    ca: a CA certificate is wanted (BasicConstraints ca=true, allowed to sign
    certificates, path length max_path_length; -1 for no limit), else a leaf.
    """
    is_ca, path_length = basic_constraints(cert)
    if not ca:
        return ['certificate is a CA certificate but a leaf was asked for'] if is_ca else []
    if not is_ca:
        return ['certificate is not a CA certificate']
    reasons = []
    if not _may_sign_certificates(cert):
        reasons.append('CA certificate may not sign certificates (its key usage lacks keyCertSign)')
    want = wanted_path_length(max_path_length)
    if path_length != want:
        reasons.append(f'CA path length is {_path_length_text(path_length)}, want {_path_length_text(want)}')
    return reasons


def outlives(cert, ca_cert):
    """True when cert is valid longer than the CA that signed it (Vault allows that for CAs it signs)."""
    return _utc(cert, 'not_valid_after') > _utc(ca_cert, 'not_valid_after')


def issued_by(cert, ca_cert):
    """True when ca_cert's key signed cert (and the names chain up)."""
    try:
        if hasattr(cert, 'verify_directly_issued_by'):
            cert.verify_directly_issued_by(ca_cert)
        else:  # cryptography < 40 (Debian 12 has 38): the same checks by hand
            _verify_signature(cert, ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _verify_signature(cert, ca_cert):
    if cert.issuer != ca_cert.subject:
        raise ValueError('issuer name does not match the CA subject')
    public_key = ca_cert.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    elif isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    else:
        raise TypeError(f'unsupported CA key type {type(public_key).__name__}')


def _diff_lists(label, have, want):
    missing = [v for v in want if v not in have]
    extra = [v for v in have if v not in want]
    parts = []
    if missing:
        parts.append('missing ' + ', '.join(missing))
    if extra:
        parts.append('not requested ' + ', '.join(extra))
    return f"{label} differ: {'; '.join(parts)}"


def subject_mismatches(info, common_name, organization, subject_alt_name):
    """Reasons (list of str) why a certificate's subject/SANs differ from the request; empty when equal."""
    reasons = []
    if info['common_name'] != common_name:
        reasons.append(f"common name is {info['common_name']!r}, want {common_name!r}")
    want_org = sorted(organization or [])
    if info['organization'] != want_org:
        reasons.append(f"organization is {info['organization']}, want {want_org}")
    dns, ips = split_sans(subject_alt_name)
    if info['dns_names'] != dns:
        reasons.append(_diff_lists('DNS SANs', info['dns_names'], dns))
    if info['ip_addresses'] != ips:
        reasons.append(_diff_lists('IP SANs', info['ip_addresses'], ips))
    return reasons


def reissue_reasons(cert, key, request, ca_cert=None, now=None, force=False):
    """Why the certificate must be (re-)issued; an empty list means keep it.

    cert, key: parsed objects or None (missing file). request: dict with
    common_name, organization, subject_alt_name, renew_before, and for a CA
    certificate ca=True and max_path_length (-1: no limit). ca_cert: the
    current issuing CA of the Vault mount, or None to skip that check.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    reasons = []
    if force:
        reasons.append('force is set')
    if cert is None:
        reasons.append('certificate file is missing')
        return reasons
    if key is None:
        reasons.append('private key is missing')
    elif public_key_bytes(key) != public_key_bytes(cert):
        reasons.append('private key does not match the certificate')
    not_before, not_after = _utc(cert, 'not_valid_before'), _utc(cert, 'not_valid_after')
    if now >= not_after:
        reasons.append(f'certificate expired at {not_after.isoformat()}')
    else:
        threshold = renew_threshold(request.get('renew_before', '33%'), not_before, not_after)
        if now >= threshold:
            reasons.append(f"certificate expires at {not_after.isoformat()}, within renew_before ({request.get('renew_before', '33%')})")
    reasons.extend(subject_mismatches(cert_info(cert), request['common_name'], request.get('organization'), request.get('subject_alt_name')))
    reasons.extend(kind_mismatches(cert, request.get('ca', False), request.get('max_path_length', 0)))
    if ca_cert is not None and not issued_by(cert, ca_cert):
        reasons.append(f"certificate was issued by {cert.issuer.rfc4514_string()!r}, not by the current CA {ca_cert.subject.rfc4514_string()!r}")
    return reasons


# --------------------------------------------------------------------------
# The request to Vault
# --------------------------------------------------------------------------

def check_request(params):
    """Reject option combinations of vault_cert that cannot work, with the fix in the message."""
    if not params.get('ca'):
        if not params.get('role'):
            raise CertError('role: a leaf certificate needs the Vault role that signs it (or set ca=true for a CA certificate)')
        return
    if params.get('role'):
        raise CertError(f"role: {params['role']!r} is not used with ca=true (a CA certificate is signed by "
                        '<mount>/root/sign-intermediate, which has no role); remove role')
    for option in ('organization', 'subject_alt_name'):
        if params.get(option):
            raise CertError(f'{option}: not supported with ca=true (the CA certificate carries only its common name); remove it')
    if params.get('ca_max_path_length', 0) < -1:
        raise CertError(f"ca_max_path_length: {params['ca_max_path_length']} is not a path length; use 0 or more, or -1 for no limit")


def sign_request(params, csr):
    """(path, data) of the Vault request that signs csr for the vault_cert options params.

    A leaf goes to <mount>/sign/<role>; a CA (ca=true) to <mount>/root/sign-intermediate,
    with the subject from the request, not from the CSR, and the path length pinned.
    """
    mount = params['mount'].strip('/')
    data = {
        'csr': csr,
        'common_name': params['common_name'],
        # SANs come from the CSR only: without this Vault adds the CN as a DNS SAN,
        # the certificate never equals the request and would be re-issued every run.
        'exclude_cn_from_sans': True,
        'format': 'pem',
    }
    if params.get('ttl'):
        data['ttl'] = params['ttl']
    if not params.get('ca'):
        return f"{mount}/sign/{params['role']}", data
    data['use_csr_values'] = False
    # Sent as a string, which Vault reads as an integer: a policy can then pin it with
    # allowed_parameters ("max_path_length" = ["0"]); a JSON number never equals a policy value.
    data['max_path_length'] = str(params['ca_max_path_length'])
    return f'{mount}/root/sign-intermediate', data


def signed_mismatches(cert, params):
    """Reasons why the certificate Vault signed differs from what params asked for; empty when it matches."""
    reasons = subject_mismatches(cert_info(cert), params['common_name'], params.get('organization'), params.get('subject_alt_name'))
    reasons.extend(kind_mismatches(cert, params.get('ca', False), params.get('ca_max_path_length', 0)))
    return reasons
