# zevac, built from this repository. The binary calls zpool, zfs, zdb, blkid, blockdev, wipefs
# and udevadm through PATH: the NixOS module puts them there (the initrd's /bin, the service's
# path), so the package itself stays free of a ZFS version of its own.
{
  lib,
  stdenv,
  rustPlatform,
  installShellFiles,
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
      # Read by the module-rendering test of tests/nix.rs, which checkPhase runs.
      ../nix/tests/example-rendered.json
    ];
  };
  cargoLock.lockFile = ../Cargo.lock;

  cargoBuildFlags = [
    "--package"
    "zevac"
  ];
  # The unit tests and the command line's; the lab and Nix tests are #[ignore]d (they boot QEMU,
  # or need root, apt and nixpkgs), and a plain cargo test lists them as ignored.
  cargoTestFlags = [
    "--package"
    "zevac"
  ];
  # It asks cargo for the metadata of the whole lock, registry and all; the repository's test
  # command runs it.
  checkFlags = [
    "--skip"
    "no_locked_dependency_needs_a_newer_rustc_than_rust_version"
  ];

  nativeBuildInputs = [ installShellFiles ];
  # The man pages and completions come from the binary's own clap definitions.
  postInstall = lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
    $out/bin/zevac generate man man
    installManPage man/*.1
    installShellCompletion --cmd zevac \
      --bash <($out/bin/zevac generate bash) \
      --zsh <($out/bin/zevac generate zsh) \
      --fish <($out/bin/zevac generate fish)
  '';

  meta = {
    description = manifest.description;
    longDescription = ''
      zevac boots a machine's ZFS root pool from its network boot volume (AWS EBS), adds the
      local NVMe instance stores as new vdevs and has ZFS remove the EBS vdev, so the data moves
      onto the fast local disks in the background while the machine is already up. The NixOS
      module (services.zevac) runs it in the systemd initrd.
    '';
    license = with lib.licenses; [
      mit
      asl20
    ];
    platforms = lib.platforms.linux;
    mainProgram = "zevac";
  };
}
