# Copyright 2026 The masakari-monitors-k8s Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Kubernetes API errors as exceptions that know their ``Status`` object.

Part of the Kubernetes API test server. The store raises these and the HTTP
layer turns them into the ``Status`` bodies real kube-apiserver sends, so a
client's error handling (409 on a stale resourceVersion, 410 after
compaction, 403 naming the missing permission) is tested against the same
shapes it meets in production.
"""


class ApiError(Exception):
    """An error with the HTTP code, reason and details of a k8s Status."""

    code = 500
    reason = 'InternalError'

    def __init__(self, message, *, details=None, metadata=None,
                 headers=None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.metadata = metadata or {}
        self.headers = headers or {}

    def status(self):
        """The ``Status`` object kube-apiserver answers with."""
        body = {
            'kind': 'Status',
            'apiVersion': 'v1',
            'metadata': dict(self.metadata),
            'status': 'Failure',
            'message': self.message,
            'reason': self.reason,
            'code': self.code,
        }
        if self.details is not None:
            body['details'] = self.details
        return body


class BadRequest(ApiError):
    code = 400
    reason = 'BadRequest'


class Unauthorized(ApiError):
    code = 401
    reason = 'Unauthorized'


class Forbidden(ApiError):
    code = 403
    reason = 'Forbidden'


class NotFound(ApiError):
    code = 404
    reason = 'NotFound'


class MethodNotAllowed(ApiError):
    code = 405
    reason = 'MethodNotAllowed'


class AlreadyExists(ApiError):
    code = 409
    reason = 'AlreadyExists'


class Conflict(ApiError):
    code = 409
    reason = 'Conflict'


class Expired(ApiError):
    code = 410
    reason = 'Expired'


class UnsupportedMediaType(ApiError):
    code = 415
    reason = 'UnsupportedMediaType'


class Invalid(ApiError):
    code = 422
    reason = 'Invalid'


class TooManyRequests(ApiError):
    code = 429
    reason = 'TooManyRequests'


class InternalError(ApiError):
    code = 500
    reason = 'InternalError'


class ServiceUnavailable(ApiError):
    code = 503
    reason = 'ServiceUnavailable'


class Timeout(ApiError):
    code = 504
    reason = 'Timeout'


def error_for_code(code, message, **kwargs):
    """An :class:`ApiError` of the class whose code is ``code``."""
    for cls in (TooManyRequests, InternalError, ServiceUnavailable,
                BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
                Expired, Invalid, Timeout):
        if cls.code == code:
            return cls(message, **kwargs)
    error = ApiError(message, **kwargs)
    error.code = code
    error.reason = ''
    return error
