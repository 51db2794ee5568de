# Evaluates nix/module.nix with nixpkgs' lib.evalModules and stand-ins for the NixOS options it
# touches (declared loosely below: the real ones come with a nixpkgs checkout), and returns what
# the tests check, as JSON-ready values.
#
#   nix-instantiate --eval --strict --json nix/tests/eval.nix \
#     --arg lib 'import /path/to/nixpkgs/lib' --arg configuration '{ services.zevac.enable = true; }'
{
  lib,
  configuration,
}:
let
  fakePackage = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };

  # What the module takes from pkgs. formats.toml's type is nixpkgs' TOML value type; its
  # generate stands in for remarshal's json2toml, so the tests read the settings as JSON and
  # render them to TOML themselves.
  pkgs = {
    formats.toml =
      { }:
      let
        valueType =
          with lib.types;
          nullOr (oneOf [
            bool
            int
            float
            str
            path
            (attrsOf valueType)
            (listOf valueType)
          ]);
      in
      {
        type = valueType;
        generate = name: value: "/nix/store/00000000000000000000000000000000-${name}";
      };
    callPackage = _path: _args: fakePackage "zevac";
    util-linux = fakePackage "util-linux";
    lvm2 = fakePackage "lvm2" // {
      bin = fakePackage "lvm2-bin";
    };
  };

  loose = lib.mkOption {
    type = lib.types.attrsOf lib.types.anything;
    default = { };
  };
  package =
    name:
    lib.mkOption {
      type = lib.types.package;
      default = fakePackage name;
    };

  nixosStandIns = {
    options = {
      assertions = lib.mkOption {
        type = lib.types.listOf lib.types.anything;
        default = [ ];
      };
      boot.zfs.package = package "zfs";
      boot.initrd.kernelModules = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ ];
      };
      boot.initrd.systemd = {
        enable = lib.mkOption {
          type = lib.types.bool;
          default = false;
        };
        package = package "systemd";
        services = loose;
        storePaths = lib.mkOption {
          type = lib.types.listOf lib.types.anything;
          default = [ ];
        };
        extraBin = lib.mkOption {
          type = lib.types.attrsOf lib.types.str;
          default = { };
        };
        contents = loose;
      };
      systemd.package = package "systemd";
      systemd.services = loose;
      environment.etc = loose;
      environment.systemPackages = lib.mkOption {
        type = lib.types.listOf lib.types.anything;
        default = [ ];
      };
    };
  };

  eval = lib.evalModules {
    modules = [
      nixosStandIns
      ../module.nix
      configuration
    ];
    specialArgs = { inherit pkgs; };
  };
  cfg = eval.config;
  storePath = v: if lib.isAttrs v && v ? outPath then v.outPath else v;
in
{
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
  settings = cfg.services.zevac.settings;
  profile = cfg.services.zevac.profile;
  initrdUnit = cfg.boot.initrd.systemd.services.zevac or null;
  initrdStorePaths = cfg.boot.initrd.systemd.storePaths;
  initrdBin = cfg.boot.initrd.systemd.extraBin;
  initrdFiles = lib.attrNames cfg.boot.initrd.systemd.contents;
  initrdKernelModules = cfg.boot.initrd.kernelModules;
  watchUnit =
    let
      u = cfg.systemd.services.zevac-watch or null;
    in
    if u == null then null else u // { path = map storePath u.path; };
  etcFiles = lib.attrNames cfg.environment.etc;
  systemPackages = map storePath cfg.environment.systemPackages;
}
