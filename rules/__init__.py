"""The built-in catalog (the repository's rules/ folder, shipped inside the package)."""
