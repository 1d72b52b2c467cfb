"""The data layer: reading a cohort (readers, manifests, masks), validating it, the
views a method sees, the dataset sources and the patient-level splits."""
