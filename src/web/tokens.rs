//! Tracking tokens of `/track/{token}`. (Being built.)
