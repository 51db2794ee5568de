# The AMI of the ZFS root profile, built by nixpkgs' own EC2 image builder
# (nixos/maintainers/scripts/ec2/amazon-image.nix, which uses nixos/lib/make-multi-disk-zfs-image.nix
# when ec2.zfs.enable is set): two disk images, root (pool tank) and boot (the ESP), and
# nix-support/image-info.json for the upload.
#
#   nix-build nix/image.nix -I nixpkgs=/path/to/nixpkgs
{
  nixpkgs ? <nixpkgs>,
  system ? "x86_64-linux",
  extraModules ? [ ],
}:
(import "${nixpkgs}/nixos/lib/eval-config.nix" {
  inherit system;
  modules = [
    "${nixpkgs}/nixos/maintainers/scripts/ec2/amazon-image.nix"
    ./profiles/ec2-zfs-root.nix
    # A new image: its state starts at the release it is built from (as nixos-generate-config
    # writes it for a new machine); an image of your own sets its own.
    ({ lib, ... }: { system.stateVersion = lib.mkDefault lib.trivial.release; })
  ] ++ extraModules;
}).config.system.build.amazonImage
