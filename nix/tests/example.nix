# A configuration that sets every option of services.zevac: the tests evaluate it and check that
# zevac accepts what the module renders (nix/tests/example-rendered.json is that rendering).
{
  boot.initrd.systemd.enable = true;
  services.zevac = {
    enable = true;
    pool = "tank";
    localDisks = [ "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*" ];
    originMode = "immutable";
    layout = {
      specialSize = "8GiB";
      cacheSize = "16GiB";
      cacheForCopyOnly = true;
      cowSize = "1GiB";
    };
    profile = {
      description = "slow EBS, busy services";
      cap = "20 MiB/s";
      steady_delay = "30s";
      boot = {
        zfs_vdev_removal_max_active = 1;
        zfs_vdev_removal_min_active = 1;
      };
      steady = {
        zfs_vdev_removal_max_active = 2;
        zfs_vdev_removal_min_active = 1;
      };
      verify.zfs_vdev_scrub_max_active = 2;
    };
    bandwidthCap = "30 MiB/s";
    metrics.textfileDir = "/var/lib/prometheus-node-exporter-text-files";
    settings = {
      local.allow_wipe = true;
      watch.interval = "5s";
    };
  };
}
