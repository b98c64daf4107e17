"""Safety and provenance: pre-generation checks (text, faces, metadata) and export-time disclosures
(visible label, invisible watermark, signed C2PA manifest), read back by `verify_video`."""
