// CloudbenchCore
