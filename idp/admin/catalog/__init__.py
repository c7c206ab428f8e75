"""The catalog of stages and policies: one generic create/edit/delete over each registry."""
