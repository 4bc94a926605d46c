"""Output: names, atomic files, the batch protocol, build records, packet manifests and PDFs."""
