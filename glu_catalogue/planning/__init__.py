"""Planning a pruning by formula (``catalogue plan``) and summarising the registry (``catalogue models``)."""
