import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/** A Revgov API key (`rgk.<tenant>.<key id>.<secret>`) and the base URL of the tenant's API. */
export class RevgovApi implements ICredentialType {
	name = 'revgovApi';

	displayName = 'Revgov API';

	documentationUrl = 'https://revgov.dev/docs/api';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://127.0.0.1:8000',
			description: 'The API root without /v1, e.g. https://api.revgov.example or http://127.0.0.1:8000 locally',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'A role key (channel_ops, sales, finance, …) or a partner key; shown once when it was created',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl.replace(/\\/$/, "")}}', url: '/v1/deals', qs: { limit: 1 } },
	};
}
