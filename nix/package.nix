# zevac, built from this repository. The binary calls zpool, zfs, zdb, blkid, blockdev, wipefs
# and udevadm through PATH: the NixOS module puts them there (the initrd's /bin, the service's
# path), so the package itself stays free of a ZFS version of its own.
{
  lib,
  rustPlatform,
}:
let
  manifest = (lib.importTOML ../Cargo.toml).package;
in
rustPlatform.buildRustPackage {
  pname = manifest.name;
  inherit (manifest) version;

  # The workspace: zevac and its lab crate (bench/), which cargo needs to resolve the workspace.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../src
      ../zfs-profiles
      ../bench/Cargo.toml
      ../bench/src
      ../bench/guest
      ../bench/fixtures
      ../tests
    ];
  };
  cargoLock.lockFile = ../Cargo.lock;

  cargoBuildFlags = [
    "--package"
    "zevac"
  ];
  # The unit tests; the lab tests are #[ignore]d (they boot QEMU).
  cargoTestFlags = [
    "--package"
    "zevac"
  ];

  meta = {
    description = manifest.description;
    license = with lib.licenses; [
      mit
      asl20
    ];
    platforms = lib.platforms.linux;
    mainProgram = "zevac";
  };
}
