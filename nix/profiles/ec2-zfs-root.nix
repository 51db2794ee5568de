# The NixOS ZFS root profile for EC2: nixpkgs' own ZFS AMI layout (amazon-image-zfs: pool `tank`
# on the root EBS volume, /boot on the ESP of a second, small EBS volume), booted by the
# systemd initrd, with zevac moving the pool onto the instance stores at every boot.
{
  lib,
  modulesPath,
  ...
}:
{
  imports = [
    # EC2 basics: ENA and NVMe drivers, the metadata service, the serial console, and the NVMe
    # I/O time-out EBS needs (kernel parameter nvme_core.io_timeout=4294967295).
    "${modulesPath}/virtualisation/amazon-image.nix"
    ../module.nix
  ];

  ec2.zfs = {
    enable = true;
    # nixpkgs' amazon-image-zfs datasets; the image builder gives the pool mountpoint=legacy,
    # compression=on, atime=off, xattr=sa and acltype=posixacl.
    datasets = {
      "tank/system/root".mount = "/";
      "tank/system/var".mount = "/var";
      "tank/local/nix".mount = "/nix";
      "tank/user/home".mount = "/home";
    };
  };

  # /boot stays on the ESP (amazon-image.nix mounts it with ec2.zfs): GRUB cannot read a pool
  # with indirect vdevs, which every pool zevac has moved has.
  boot.initrd.systemd.enable = true;
  # boot.zfs.devNodes stays amazon-image.nix's "/dev/" (it sets it for ec2.zfs, without
  # mkDefault). Only the import unit, which runs when zevac has not imported the pool, reads it,
  # and "/dev/" serves zevac's failure paths: `zpool import -d /dev/` scans every disk node, so
  # it finds the instance-store partitions whatever the kernel named them this boot; when zevac
  # gives the pool back it has removed its mapping, so the scan sees EBS alone, as without
  # zevac; and a mapping zevac had to keep (/dev/dm-N, which by-id would not list) is found
  # there too, where the raw EBS partition it holds is busy.
  # ZFS wants a host id; amazon-image.nix sets the same one in every image, which is right for
  # an AMI that boots many instances.
  networking.hostId = lib.mkDefault "00000000";

  services.zevac = {
    enable = true;
    pool = "tank";
    profile = "balanced";
  };
}
