"""Where the browser may fetch media from, for the Content-Security-Policy (read by
`config.settings`; no Django, no I/O).

Media is served by our own views on the local folder (our origin). On S3 or R2 the pages link
signed URLs on the bucket's own origin, which the S3 client builds from the endpoint, the
addressing style and the region; public objects may also come from `STORAGE_PUBLIC_DOMAIN`.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

AWS_GLOBAL_REGIONS = ("", "us-east-1")  # the client then uses only the global host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def storage_origins(
    *,
    bucket: str,
    endpoint_url: str | None = None,
    addressing_style: str | None = None,
    region: str | None = None,
    public_domain: str = "",
) -> list[str]:
    """The origins (scheme://host[:port]) of the media URLs the storage hands out, besides our
    own: empty for the local folder. Every host the S3 client may choose for this configuration
    is listed (path style names the endpoint, virtual style prefixes the bucket), so a change of
    the client's default does not blank the images."""
    origins: list[str] = []
    if bucket:
        style = addressing_style or "auto"
        path_hosts: list[str] = []
        virtual_hosts: list[str] = []
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            scheme, netloc = parts.scheme, parts.netloc
            path_hosts.append(netloc)
            if not _is_ip(parts.hostname or ""):
                virtual_hosts.append(f"{bucket}.{netloc}")
        else:
            scheme = "https"
            path_hosts.append("s3.amazonaws.com")
            virtual_hosts.append(f"{bucket}.s3.amazonaws.com")
            if (region or "") not in AWS_GLOBAL_REGIONS:
                path_hosts.append(f"s3.{region}.amazonaws.com")
                virtual_hosts.append(f"{bucket}.s3.{region}.amazonaws.com")
        hosts = {
            "path": path_hosts,
            # An IP endpoint has no bucket subdomain: the client falls back to the path style.
            "virtual": virtual_hosts or path_hosts,
        }.get(style, path_hosts + virtual_hosts)
        origins += [f"{scheme}://{host}" for host in hosts]
    if public_domain:
        origins.append(f"https://{public_domain}")
    return list(dict.fromkeys(origins))
