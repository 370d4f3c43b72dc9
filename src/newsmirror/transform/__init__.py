"""Transform stage: links, text normalisation, full-text extraction."""
