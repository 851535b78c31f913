"""The ward's directory of services and community activities, in the Open Referral HSDS 3.0 shape."""
