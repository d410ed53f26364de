"""SSH public keys for tests, made with `ssh-keygen`; the fingerprints are what `ssh-keygen -lf` prints."""

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDrNThGtLHY4OSrNWk7tGE3oBNP+A0kbhruakxBH9OK3 alice@laptop"
ED25519_FINGERPRINT = "SHA256:vb6oizWelFznv5ccTUjLbPDK8S0SNWdtTg4ozJuXBIs"
ECDSA = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIiwhG1DgFTI+gtNc+1hmlXjpDgGbVHx"
         "z0GvhfmLaR7GtQN22YYw7Qk/7DySCGC6va682A6hGOkw/H1x+qMeJck=")
ECDSA_FINGERPRINT = "SHA256:JEn0mibZ7bbAGjD1Wr1abfB/ccv4lgdjyYyOxDmb9BE"
