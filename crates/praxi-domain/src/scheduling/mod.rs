//! Scheduling engine: availability as interval algebra, conflicts and slot suggestion.
