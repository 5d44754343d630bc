#!/bin/sh
# deb/rpm: make the polkit action known, so pkexec names what it runs when the app asks.
install -D -m 0644 /opt/Porthole/resources/dev.porthole.helper.policy /usr/share/polkit-1/actions/dev.porthole.helper.policy
