; CPUID identity and feature leaves, RDMSR/WRMSR round trips on the MSRs a
; P6 has, and a time-stamp counter that moves forward and can be written.
; -cpu max: the model that has every feature Umbra implements, leaf 7 too.
; umbra-args: -bios {bin} -no-reboot -cpu max
%include "sys_lib.inc"
[bits 16]
org 0
start:
    ENTER_PM32 pm
pm:
    xor eax, eax
    cpuid
    CHK "max leaf", eax, 7
    CHK "vendor.ebx", ebx, 'Genu'
    CHK "vendor.edx", edx, 'ineI'
    CHK "vendor.ecx", ecx, 'ntel'
    mov eax, 1
    cpuid
    mov ebx, eax
    shr ebx, 8
    and ebx, 0xf
    CHK "family", ebx, 6
    ; FPU TSC MSR CX8 APIC SEP CMOV present (the default machine has a
    ; local APIC; -no-apic clears bit 9), MMX FXSR SSE SSE2 present; MCE
    ; and MCA absent (not implemented)
    mov ebx, edx
    and ebx, (1 << 0) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 15)
    CHK "features in", ebx, (1 << 0) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 15)
    mov ebx, edx
    and ebx, (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26)
    CHK "sse in", ebx, (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26)
    mov ebx, edx
    and ebx, (1 << 7) | (1 << 14)
    CHK "features out", ebx, 0
    mov eax, 2
    cpuid
    and eax, 0xff
    CHK "leaf2 count", eax, 1
    mov eax, 7
    xor ecx, ecx
    cpuid
    mov esi, ebx
    mov eax, 0x40
    xor ecx, ecx
    cpuid
    CHK "leaf>max=leaf7", ebx, esi
    ; ---- MSRs ----
    mov ecx, 0x174
    mov eax, 0x08
    xor edx, edx
    wrmsr
    mov ecx, 0x176
    mov eax, 0xc0101234
    wrmsr
    xor eax, eax
    rdmsr
    CHK "sysenter_eip", eax, 0xc0101234
    mov ecx, 0x174
    rdmsr
    CHK "sysenter_cs", eax, 8
    mov ecx, 0x201              ; MTRRphysMask0
    mov eax, 0xffc00800
    mov edx, 0xf
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    CHK "mtrr mask.lo", eax, 0xffc00800
    CHK "mtrr mask.hi", edx, 0xf
    mov ecx, 0x2ff
    mov eax, 0xc06
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    CHK "mtrr deftype", eax, 0xc06
    mov ecx, 0xfe
    rdmsr
    and eax, 0xff
    CHK "mtrrcap vcnt", eax, 8
    ; ---- TSC ----
    rdtsc
    mov esi, eax
    mov edi, edx
    nop
    nop
    rdtsc
    sub eax, esi
    sbb edx, edi
    CHK "tsc delta.hi", edx, 0
    cmp eax, 3
    setae bl
    movzx ebx, bl
    CHK "tsc forward", ebx, 1
    mov ecx, 0x10
    mov eax, 0x40000000
    xor edx, edx
    wrmsr
    rdtsc
    sub eax, 0x40000000
    cmp eax, 16
    setb bl
    movzx ebx, bl
    CHK "tsc written", ebx, 1
    FINISH

    STD_GDT
    SYS_HELPERS
    ROM_END start
