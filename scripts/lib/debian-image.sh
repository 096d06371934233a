# Shared by scripts/build-image and scripts/check-docker-build (sourced, not run):
# Debian images made without a registry. Needs root, docker, and log/die defined.
SUITE=bookworm
# The recipe of the connector's base image (bookworm minbase, slimmed, CA bundle): bump
# when the base recipe changes, and an existing base with another recipe is rebuilt.
DEBIAN_BASE_RECIPE="bookworm-minbase-slim-ca-v1"
DEBIAN_IMAGE_CHANGES=()

# image_recipe TAG: the local.base-recipe label of a local image ("" when absent).
image_recipe() {
  docker image inspect --format '{{ index .Config.Labels "local.base-recipe" }}' "$1" 2>/dev/null || true
}

# --- the Debian mirror apt uses on this machine ----------------------------------------
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "$DEBIAN_MIRROR"
    return
  fi
  local f uri
  # deb822 sources: the first URIs value that ends in /debian (not debian-security).
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    uri="$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")"
    if [ -n "$uri" ]; then printf '%s\n' "${uri%/}"; return; fi
  done
  # one-line sources: deb [options] URI SUITE COMPONENTS
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f")"
    if [ -n "$uri" ]; then printf '%s\n' "${uri%/}"; return; fi
  done
  printf '%s\n' "http://deb.debian.org/debian"
}

# --- a Debian image from debootstrap ---------------------------------------------------
# debian_image TAG RECIPE PACKAGES [HOOK]
#   debootstrap --variant=minbase bookworm with PACKAGES (comma-separated) included,
#   slimmed like the official -slim images, HOOK ROOTFS run on the rootfs (if given), then
#   `docker import`ed as TAG with the label local.base-recipe=RECIPE. Extra `--change`
#   instructions for the import may be put in the array DEBIAN_IMAGE_CHANGES.
debian_image() {
  local tag="$1" recipe="$2" packages="$3" hook="${4:-}"
  [ "$(id -u)" = 0 ] || die "building the base image needs root (debootstrap)"
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y --no-install-recommends debootstrap >/dev/null; }
  fi
  local mirror work rootfs
  mirror="$(debian_mirror)"
  work="$(mktemp -d /var/tmp/source-aftership-rootfs.XXXXXX)"
  # shellcheck disable=SC2064  # expand $work now
  trap "rm -rf '$work'" EXIT
  rootfs="$work/rootfs"
  log "debootstrap --variant=minbase $SUITE from $mirror (about 30 s)"
  debootstrap --variant=minbase --include="$packages" "$SUITE" "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

  # Slim it the way the official debian:*-slim images are: keep dpkg from installing
  # docs, man pages and translations later, and delete what is already there.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT::AutoRemove::SuggestsImportant "false";
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/* \
         "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
         "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/* \
         "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
  # The container runtime provides these.
  : >"$rootfs/etc/hostname"
  rm -f "$rootfs/etc/resolv.conf"
  [ -s "$rootfs/etc/ssl/certs/ca-certificates.crt" ] || die "CA bundle missing in rootfs"

  if [ -n "$hook" ]; then "$hook" "$rootfs"; fi
  log "docker import -> $tag"
  tar --numeric-owner --xattrs -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "${DEBIAN_IMAGE_CHANGES[@]/#/--change=}" \
    --change "LABEL org.opencontainers.image.description=\"debootstrap --variant=minbase $SUITE ($mirror), slimmed, with $packages\" local.base-recipe=$recipe" \
    --message "debootstrap $SUITE from $mirror" \
    - "$tag" >/dev/null
  rm -rf "$work"
  trap - EXIT
}

