# services.zevac: boot the ZFS root pool from EBS, then move it onto the instance stores in the
# background. `zevac apply` runs in the systemd initrd before the pool is imported; `zevac
# watch` follows the copy in stage 2 until it is verified.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.zevac;
  settingsFormat = pkgs.formats.toml { };
  configFile = settingsFormat.generate "zevac.toml" cfg.settings;

  shippedProfiles = [
    "gentle"
    "balanced"
    "fast"
  ];
  # A profile given as an attribute set is written to a file of this name in profile_dir.
  customProfile = lib.isAttrs cfg.profile;
  profileName = if customProfile then "nixos" else cfg.profile;
  profileFile = settingsFormat.generate "zevac-profile-nixos.toml" cfg.profile;
  profileDir = "/etc/zevac/profiles";

  zfsPackage = config.boot.zfs.package;

  immutable = cfg.originMode == "immutable";

  diskList =
    what:
    lib.mkOption {
      type = lib.types.either (lib.types.enum [ "auto" ]) (lib.types.listOf lib.types.str);
      default = "auto";
      example = [ "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*" ];
      description = ''
        ${what}: `"auto"` to tell them by their NVMe model (AWS, GCP and Azure), or a list of
        `/dev/disk/by-id` paths or globs (OpenStack and other clouds whose disks have no
        telling model).
      '';
    };
  disksSetting = v: if v == "auto" then [ ] else v;
in
{
  options.services.zevac = {
    enable = lib.mkEnableOption ''
      zevac: the root pool boots from its EBS volume, and its data then moves onto the
      instance stores in the background (ZFS device removal), without holding up the boot
    '';

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The zevac package.";
    };

    pool = lib.mkOption {
      type = lib.types.str;
      default = "rpool";
      example = "tank";
      description = ''
        The root pool to move. nixpkgs' EC2 ZFS image builder names it `tank`.
      '';
    };

    origin = diskList "The disks the pool boots from (EBS)";

    originMode = lib.mkOption {
      type = lib.types.enum [
        "immutable"
        "in-place"
      ];
      default = "immutable";
      description = ''
        `"immutable"`: the pool is imported through a device-mapper snapshot of its EBS
        partition whose copy-on-write store is a small partition on the first instance store,
        so EBS is never written and a stop/start (blank instance stores) boots the image as it
        was. `"in-place"`: the EBS partition itself is the vdev ZFS removes (the plain
        add-then-remove): after the copy the pool needs the instance stores, and a stop/start
        leaves a machine that cannot import it.
      '';
    };

    localDisks = diskList "The local disks to move the pool onto (instance stores)";

    layout = {
      specialSize = lib.mkOption {
        type = lib.types.str;
        default = "0";
        example = "8GiB";
        description = "A special-vdev partition of this size on every local disk (`\"0\"`: none).";
      };
      cacheSize = lib.mkOption {
        type = lib.types.str;
        default = "0";
        example = "16GiB";
        description = "An L2ARC partition of this size on every local disk (`\"0\"`: none).";
      };
      cacheForCopyOnly = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = "Remove the L2ARC devices once the copy is verified.";
      };
      cowSize = lib.mkOption {
        type = lib.types.str;
        default = "256MiB";
        description = ''
          The immutable origin's copy-on-write partition. ZFS writes about 2 MiB there (its
          labels); a snapshot whose store fills up becomes invalid.
        '';
      };
    };

    profile = lib.mkOption {
      type = lib.types.either (lib.types.enum shippedProfiles) settingsFormat.type;
      default = "balanced";
      example = lib.literalExpression ''
        {
          description = "slow EBS, busy services";
          cap = "20 MiB/s";
          boot = { zfs_vdev_removal_max_active = 1; zfs_vdev_removal_min_active = 1; };
          steady = { zfs_vdev_removal_max_active = 1; zfs_vdev_removal_min_active = 1; };
        }
      '';
      description = ''
        The tunables profile for the copy: `gentle`, `balanced` or `fast` (shipped with
        zevac; `zevac profiles` lists their values), or a profile of your own as an attribute
        set in the format of zevac's `zfs-profiles/*.toml`, written to
        `${profileDir}/nixos.toml`.
      '';
    };

    bandwidthCap = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "40 MiB/s";
      description = ''
        A cap for the copy in place of the profile's: a rate (`"40 MiB/s"`), a share of the
        rate the EBS volume delivers to the copy uncapped (`"50%"`, measured at boot), or
        `"none"` for no cap; `null` keeps the profile's. Other reads of the EBS volume count
        against it, so the copy yields to a busy root (a root reading faster than the cap has
        the volume to itself until it quiets down). `zevac tune --cap` changes it at runtime.
      '';
    };

    metrics.textfileDir = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "/var/lib/prometheus-node-exporter-text-files";
      description = ''
        A node_exporter textfile collector directory; the watcher keeps `zevac.prom` there.
      '';
    };

    settings = lib.mkOption {
      type = lib.types.submodule { freeformType = settingsFormat.type; };
      default = { };
      example = {
        local.allow_wipe = true;
        watch.interval = "5s";
      };
      description = ''
        zevac's configuration file (`/etc/zevac.toml`), as an attribute set; the options
        above fill it in, and any key zevac knows can be set here (docs/usage.md lists them).
        zevac rejects unknown keys.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = config.boot.initrd.systemd.enable;
        message = ''
          services.zevac needs the systemd initrd (boot.initrd.systemd.enable = true): zevac
          runs as a unit ordered after udev and before zfs-import-${cfg.pool}.service, which
          only the systemd initrd has. The scripted initrd is not supported.
        '';
      }
    ];

    services.zevac.settings = {
      pool = lib.mkDefault cfg.pool;
      origin = {
        disks = lib.mkDefault (disksSetting cfg.origin);
        mode = lib.mkDefault cfg.originMode;
      };
      local.disks = lib.mkDefault (disksSetting cfg.localDisks);
      layout = {
        special_size = lib.mkDefault cfg.layout.specialSize;
        cache_size = lib.mkDefault cfg.layout.cacheSize;
        cache_for_copy_only = lib.mkDefault cfg.layout.cacheForCopyOnly;
        cow_size = lib.mkDefault cfg.layout.cowSize;
      };
      tunables =
        {
          profile = lib.mkDefault profileName;
          profile_dir = lib.mkDefault profileDir;
        }
        // lib.optionalAttrs (cfg.bandwidthCap != null) {
          cap = lib.mkDefault cfg.bandwidthCap;
        };
      # zevac-watch (below) starts the copy in stage 2: the root mounts with EBS to itself.
      watch = {
        starts_copy = lib.mkDefault true;
      }
      // lib.optionalAttrs (cfg.metrics.textfileDir != null) {
        metrics_file = lib.mkDefault "${cfg.metrics.textfileDir}/zevac.prom";
      };
    };

    # Stage 1. nixpkgs' zfs-import-<pool>.service skips a pool that is already imported
    # (`poolImported` in nixos/modules/tasks/filesystems/zfs.nix), so the import zevac does
    # (with the copy paused) is the one the root mount uses. A failure of zevac does not stop
    # the boot: the import unit then imports the pool from EBS as it would without zevac.
    boot.initrd.systemd = {
      services.zevac = {
        description = "Move the ZFS root pool from EBS onto the instance stores (zevac)";
        wantedBy = [ "initrd.target" ];
        wants = [ "systemd-udev-settle.service" ];
        after = [
          "systemd-udev-settle.service"
          "systemd-modules-load.service"
        ];
        before = [
          "zfs-import-${cfg.pool}.service"
          "zfs-import.target"
          "sysroot.mount"
          "initrd-root-fs.target"
        ];
        unitConfig.DefaultDependencies = false;
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = "${cfg.package}/bin/zevac apply --config /etc/zevac.toml";
          # Also after a kill or a timeout: if no local disk joined the pool yet, give the pool
          # on EBS back to the import unit (zevac does this itself when it fails).
          ExecStopPost = "${cfg.package}/bin/zevac recover --config /etc/zevac.toml";
          StandardOutput = "journal+console";
          # apply imports with the copy paused and returns in seconds; a hang must not hold
          # the boot for ever.
          TimeoutStartSec = "5min";
        };
      };
      storePaths = [ "${cfg.package}/bin/zevac" ];
      # zpool and zfs are there already (zfs.nix); zevac also calls these.
      extraBin = {
        zdb = "${zfsPackage}/sbin/zdb";
        blkid = "${pkgs.util-linux}/bin/blkid";
        blockdev = "${pkgs.util-linux}/bin/blockdev";
        wipefs = "${pkgs.util-linux}/bin/wipefs";
        udevadm = "${config.boot.initrd.systemd.package}/bin/udevadm";
      }
      // lib.optionalAttrs immutable {
        # zevac runs it without udev synchronisation, so LVM's udev rules need not be there.
        dmsetup = "${pkgs.lvm2.bin}/bin/dmsetup";
      };
      contents =
        {
          "/etc/zevac.toml".source = configFile;
        }
        // lib.optionalAttrs customProfile {
          "${profileDir}/nixos.toml".source = profileFile;
        };
    };

    # The immutable origin's snapshot target, loaded before zevac runs.
    boot.initrd.kernelModules = lib.optionals immutable [
      "dm-mod"
      "dm-snapshot"
    ];

    # Stage 2: the watcher starts the copy (apply left it paused: watch.starts_copy) as soon
    # as the file systems are mounted, and follows it to a verified end. /run (and zevac's
    # records in /run/zevac) carries over from the initrd.
    systemd.services.zevac-watch = {
      description = "Follow the zevac evacuation to a verified end";
      wantedBy = [ "multi-user.target" ];
      after = [
        "zfs-import.target"
        "zfs-mount.service"
        "local-fs.target"
      ];
      path = [
        zfsPackage
        pkgs.util-linux
        config.systemd.package
      ] ++ lib.optional immutable pkgs.lvm2.bin;
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = "${cfg.package}/bin/zevac watch --config /etc/zevac.toml";
        Restart = "on-failure";
        RestartSec = "30s";
      };
    };

    environment.etc =
      {
        "zevac.toml".source = configFile;
      }
      // lib.optionalAttrs customProfile {
        "zevac/profiles/nixos.toml".source = profileFile;
      };
    environment.systemPackages = [ cfg.package ];

    # No boot.extraModprobeConfig: zevac sets the boot-phase tunables itself just before
    # `zpool remove`, after recording the module's values so it can put them back. Values set
    # at module load would be recorded as the module's own, and the end of the copy would
    # then "restore" the boot phase instead of OpenZFS's defaults.
  };
}
